// A plugin frontend whose tab throws while rendering: the host must show an error card naming
// the plugin, and stay usable.

function BrokenTab() {
  throw new Error("Boom: the broken-frontend tab failed to render");
}

export default {
  tabs: [{ id: "broken", label: "Broken tab", location: "admin", component: BrokenTab }],
};
