import { describe, expect, it } from "vitest";
import { matchPath } from "./router";

describe("matchPath", () => {
  it("matches parameters and decodes them", () => {
    expect(matchPath("/plugins/:name", "/plugins/example-plugin")).toEqual({ name: "example-plugin" });
    expect(matchPath("/plugins/:name", "/plugins/a%20b")).toEqual({ name: "a b" });
    expect(matchPath("/plugins/:name", "/plugins")).toBeNull();
    expect(matchPath("/plugins", "/plugins/")).toEqual({});
  });

  it("matches a rest segment", () => {
    expect(matchPath("/ext/:plugin/page/*", "/ext/p/page/a/b")).toEqual({ plugin: "p", "*": "a/b" });
    expect(matchPath("/ext/:plugin/page/*", "/ext/p/page")).toEqual({ plugin: "p", "*": "" });
    expect(matchPath("/ext/:plugin/page/*", "/ext/p/other/x")).toBeNull();
  });
});
