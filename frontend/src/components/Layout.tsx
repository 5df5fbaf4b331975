import { useState, type ReactNode } from "react";
import { useSocketStatus } from "../live/SocketContext";
import { hasPermission } from "../lib/permissions";
import { NavLink, usePathname } from "../lib/router";
import { usePluginModule, usePluginTabs } from "../plugins/hooks";
import { NAV_SECTIONS, ROUTES } from "../routes";
import { useAuthStore } from "../state/auth";
import { useThemeStore } from "../state/theme";
import { Icon } from "./icons";
import { Toasts } from "./Toasts";
import "./Layout.css";

function ConnectionIndicator() {
  const status = useSocketStatus();
  const label =
    status === "open" ? "Live" : status === "connecting" ? "Connecting…" : status === "closed" ? "Reconnecting…" : "Offline";
  return (
    <span className={`live live--${status}`} role="status" title="Real-time updates over WebSocket" data-testid="live-status">
      <span className="live__dot" aria-hidden="true" />
      {label}
    </span>
  );
}

function ThemeToggle() {
  const theme = useThemeStore((s) => s.theme);
  const toggle = useThemeStore((s) => s.toggle);
  const next = theme === "dark" ? "light" : "dark";
  return (
    <button
      type="button"
      className="icon-btn"
      onClick={toggle}
      aria-label={`Switch to ${next} mode`}
      title={`Switch to ${next} mode`}
      data-testid="theme-toggle"
    >
      <Icon name={theme === "dark" ? "sun" : "moon"} />
    </button>
  );
}

function ExtensionLink({ plugin, id, label }: { plugin: string; id: string; label: string }) {
  const module = usePluginModule(plugin);
  return (
    <NavLink to={`/ext/${encodeURIComponent(plugin)}/${encodeURIComponent(id)}`} className="nav__link" data-testid={`nav-tab-${plugin}-${id}`}>
      <Icon name="puzzle" />
      <span>{label}</span>
      {module?.status === "loading" ? <span className="nav__hint" aria-label="reloading">↻</span> : null}
    </NavLink>
  );
}

function Sidebar({ onNavigate }: { onNavigate: () => void }) {
  const user = useAuthStore((s) => s.user);
  const logout = useAuthStore((s) => s.logout);
  const tabs = usePluginTabs("admin");
  return (
    <nav className="sidebar" aria-label="Main" onClick={(e) => (e.target as HTMLElement).closest("a") && onNavigate()}>
      <div className="brand">
        <span className="brand__logo" aria-hidden="true">
          <Icon name="bolt" size={18} />
        </span>
        <span className="brand__name">Catalyst</span>
      </div>
      {NAV_SECTIONS.map((section) => {
        const links = ROUTES.filter(
          (route) => route.nav?.section === section && (!route.permission || hasPermission(user?.permissions, route.permission)),
        );
        if (!links.length) return null;
        return (
          <div className="nav__section" key={section}>
            <div className="nav__heading">{section}</div>
            {links.map(({ path, nav }) =>
              nav ? (
                <NavLink key={path} to={path} exact={nav.exact} className="nav__link">
                  <Icon name={nav.icon} />
                  <span>{nav.label}</span>
                </NavLink>
              ) : null,
            )}
          </div>
        );
      })}
      {tabs.length ? (
        <div className="nav__section" data-testid="plugin-tabs-nav">
          <div className="nav__heading">Extensions</div>
          {tabs.map((tab) => (
            <ExtensionLink key={tab.key} plugin={tab.plugin} id={tab.id} label={tab.label} />
          ))}
        </div>
      ) : null}
      <div className="sidebar__footer">
        <div className="user-chip">
          <span className="avatar" aria-hidden="true">
            {(user?.username ?? "?").slice(0, 1).toUpperCase()}
          </span>
          <span className="user-chip__text">
            <span className="user-chip__name">{user?.username}</span>
            <span className="user-chip__role">{user?.roles.join(", ") || "no role"}</span>
          </span>
          <button type="button" className="icon-btn" onClick={() => void logout()} aria-label="Log out" title="Log out">
            <Icon name="logout" />
          </button>
        </div>
      </div>
    </nav>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  // The navigation drawer is open on the page it was opened on: moving to another page closes it.
  const pathname = usePathname();
  const [openOn, setOpenOn] = useState<string | null>(null);
  const open = openOn === pathname;
  const setOpen = (next: boolean) => setOpenOn(next ? pathname : null);
  return (
    <div className={`shell ${open ? "shell--nav-open" : ""}`}>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <div className="sidebar-col">
        <Sidebar onNavigate={() => setOpen(false)} />
      </div>
      <div className="shell__scrim" onClick={() => setOpen(false)} aria-hidden="true" />
      <div className="shell__main">
        <header className="topbar">
          <button
            type="button"
            className="icon-btn topbar__menu"
            aria-label={open ? "Close navigation" : "Open navigation"}
            aria-expanded={open}
            onClick={() => setOpen(!open)}
          >
            <Icon name={open ? "close" : "menu"} />
          </button>
          <div className="topbar__spacer" />
          <ConnectionIndicator />
          <ThemeToggle />
        </header>
        <main id="main" className="content" tabIndex={-1}>
          {children}
        </main>
      </div>
      <Toasts />
    </div>
  );
}
