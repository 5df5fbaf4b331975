import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../lib/api";
import type { ConfigSchema } from "../lib/types";
import { changedValues, ConfigForm, initialFormValues, SECRET_MASK } from "./ConfigForm";

const schema: ConfigSchema = {
  greeting: { type: "string", label: "Greeting", description: "What /hello says", default: "Hello!", required: false, secret: false, min: 1, max: 200 },
  notes: { type: "text", label: "Notes", description: "", default: "", required: false, secret: false },
  echoLimit: { type: "integer", label: "Echo limit", description: "", default: 65536, required: false, secret: false, min: 16, max: 1048576 },
  ratio: { type: "number", label: "Ratio", description: "", default: 0.5, required: false, secret: false },
  logEvents: { type: "boolean", label: "Log events", description: "", default: true, required: false, secret: false },
  mode: {
    type: "select",
    label: "Mode",
    description: "",
    default: "fast",
    required: true,
    secret: false,
    options: [
      { value: "fast", label: "Fast" },
      { value: "safe", label: "Safe" },
    ],
  },
  apiToken: { type: "secret", label: "API token", description: "", default: "", required: false, secret: true },
  password: { type: "password", label: "Password", description: "", default: "", required: false, secret: true },
};

const saved = {
  greeting: "Saved greeting",
  notes: "line one",
  echoLimit: 1024,
  ratio: 0.25,
  logEvents: false,
  mode: "safe",
  apiToken: SECRET_MASK,
  password: "",
};

function renderForm(onSave = vi.fn().mockResolvedValue({})) {
  render(<ConfigForm schema={schema} config={saved} onSave={onSave} />);
  return onSave;
}

const input = (label: string) => screen.getByLabelText<HTMLInputElement>(new RegExp(`^${label}`));

describe("ConfigForm", () => {
  it("uses the right input for each type", () => {
    renderForm();
    expect(input("Greeting").type).toBe("text");
    expect(input("Notes").tagName).toBe("TEXTAREA");
    expect(input("Echo limit").type).toBe("number");
    expect(input("Echo limit").step).toBe("1");
    expect(input("Echo limit").min).toBe("16");
    expect(input("Echo limit").max).toBe("1048576");
    expect(input("Ratio").step).toBe("any");
    expect(input("Log events").type).toBe("checkbox");
    expect(input("Log events").getAttribute("role")).toBe("switch");
    expect(input("Mode").tagName).toBe("SELECT");
    expect(input("API token").type).toBe("password");
    expect(input("Password").type).toBe("password");
  });

  it("loads the saved values, not the defaults, and shows the defaults as hints", () => {
    renderForm();
    expect(input("Greeting").value).toBe("Saved greeting");
    expect(input("Echo limit").value).toBe("1024");
    expect(input("Log events").checked).toBe(false);
    expect(input("Mode").value).toBe("safe");
    expect(screen.getByText(/Default: Hello!/)).toBeTruthy();
    expect(screen.getByText(/Default: 65536/)).toBeTruthy();
    expect(screen.getByText(/Default: on/)).toBeTruthy();
    expect(screen.getByText(/Default: Fast/)).toBeTruthy();
  });

  it("never shows a secret: the input is empty, the placeholder says it is set", () => {
    renderForm();
    expect(input("API token").value).toBe("");
    expect(input("API token").placeholder).toMatch(/saved/);
    expect(input("Password").placeholder).toBe("Not set");
  });

  it("sends only the keys that changed, with their types", async () => {
    const onSave = renderForm();
    const save = screen.getByRole<HTMLButtonElement>("button", { name: "Save changes" });
    expect(save.disabled).toBe(true);
    fireEvent.change(input("Greeting"), { target: { value: "Howdy" } });
    fireEvent.change(input("Echo limit"), { target: { value: "2048" } });
    fireEvent.click(input("Log events"));
    expect(save.disabled).toBe(false);
    fireEvent.click(save);
    await waitFor(() => expect(onSave).toHaveBeenCalledTimes(1));
    expect(onSave).toHaveBeenCalledWith({ greeting: "Howdy", echoLimit: 2048, logEvents: true });
  });

  it("sends a secret only when a new one was typed", async () => {
    const onSave = renderForm();
    fireEvent.change(input("Greeting"), { target: { value: "Hi" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(onSave).toHaveBeenCalledTimes(1));
    expect(onSave.mock.calls[0][0]).not.toHaveProperty("apiToken");

    fireEvent.change(input("API token"), { target: { value: "s3cret" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(onSave).toHaveBeenCalledTimes(2));
    expect(onSave.mock.calls[1][0]).toEqual({ apiToken: "s3cret" });
    // Once saved, the typed secret is cleared from the input again.
    await waitFor(() => expect(input("API token").value).toBe(""));
  });

  it("clears a saved secret on purpose", async () => {
    const onSave = renderForm();
    fireEvent.click(screen.getByRole("button", { name: "Clear" }));
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    await waitFor(() => expect(onSave).toHaveBeenCalledWith({ apiToken: "" }));
  });

  it("shows the server's validation errors next to their fields", async () => {
    const onSave = vi.fn().mockRejectedValue(
      new ApiError("Invalid configuration", 400, { echoLimit: "must be at least 16, got 5" }),
    );
    renderForm(onSave);
    fireEvent.change(input("Echo limit"), { target: { value: "5" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    const error = await screen.findByTestId("config-error-echoLimit");
    expect(error.textContent).toBe("must be at least 16, got 5");
    expect(input("Echo limit").getAttribute("aria-invalid")).toBe("true");
    expect(input("Echo limit").getAttribute("aria-describedby")).toContain(error.id);
    expect(onSave).toHaveBeenCalledWith({ echoLimit: 5 });
    // Editing the field takes its error away.
    fireEvent.change(input("Echo limit"), { target: { value: "64" } });
    expect(screen.queryByTestId("config-error-echoLimit")).toBeNull();
  });

  it("shows a general error when the save fails without field errors", async () => {
    renderForm(vi.fn().mockRejectedValue(new ApiError("Plugin not found", 404)));
    fireEvent.change(input("Greeting"), { target: { value: "x" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    expect((await screen.findByRole("alert")).textContent).toContain("Plugin not found");
  });

  it("refuses a number it cannot send, without calling the server", async () => {
    const onSave = renderForm();
    fireEvent.change(input("Echo limit"), { target: { value: "1.5" } });
    fireEvent.click(screen.getByRole("button", { name: "Save changes" }));
    expect((await screen.findByTestId("config-error-echoLimit")).textContent).toBe("Enter a whole number");
    expect(onSave).not.toHaveBeenCalled();
  });

  it("takes new saved values when it is not being edited", () => {
    const { rerender } = render(<ConfigForm schema={schema} config={saved} onSave={vi.fn()} />);
    rerender(<ConfigForm schema={schema} config={{ ...saved, greeting: "From elsewhere" }} onSave={vi.fn()} />);
    expect(input("Greeting").value).toBe("From elsewhere");
  });
});

describe("changedValues", () => {
  it("converts and compares", () => {
    const initial = initialFormValues(schema, saved);
    const { changes, errors } = changedValues(schema, initial, { ...initial, ratio: "", mode: "fast" });
    expect(errors).toEqual({});
    expect(changes).toEqual({ ratio: null, mode: "fast" });
  });
});

describe("array and object fields (bare defaults of the original's manifests)", () => {
  const json: ConfigSchema = {
    categories: { type: "array", label: "categories", description: "", default: ["bug"], required: false, secret: false },
    limits: { type: "object", label: "limits", description: "", default: { perHour: 10 }, required: false, secret: false },
  };

  it("edits them as JSON and refuses the wrong shape", () => {
    const initial = initialFormValues(json, { categories: ["bug", "other"], limits: { perHour: 10 } });
    expect(initial.categories).toBe(JSON.stringify(["bug", "other"], null, 2));
    const ok = changedValues(json, initial, { categories: '["x"]', limits: '{"perHour": 5}' });
    expect(ok).toEqual({ changes: { categories: ["x"], limits: { perHour: 5 } }, errors: {} });
    const bad = changedValues(json, initial, { categories: '{"a": 1}', limits: "[1" });
    expect(bad.errors).toEqual({ categories: "Enter a JSON array", limits: "Enter a JSON object" });
  });
});
