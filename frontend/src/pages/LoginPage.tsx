import { useState, type FormEvent } from "react";
import { Icon } from "../components/icons";
import { Button } from "../components/ui";
import { errorMessage } from "../lib/api";
import { useAuthStore } from "../state/auth";
import { useThemeStore } from "../state/theme";
import "./LoginPage.css";

export function LoginPage() {
  const login = useAuthStore((s) => s.login);
  const notice = useAuthStore((s) => s.notice);
  const theme = useThemeStore((s) => s.theme);
  const toggleTheme = useThemeStore((s) => s.toggle);
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError(null);
    setBusy(true);
    try {
      await login(username.trim(), password);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  };

  return (
    <div className="login">
      <button
        type="button"
        className="icon-btn login__theme"
        onClick={toggleTheme}
        aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} mode`}
      >
        <Icon name={theme === "dark" ? "sun" : "moon"} />
      </button>
      <main className="login__card card" aria-labelledby="login-title">
        <div className="brand brand--large">
          <span className="brand__logo" aria-hidden="true">
            <Icon name="bolt" size={22} />
          </span>
          <span className="brand__name">Catalyst</span>
        </div>
        <h1 id="login-title" className="login__title">
          Sign in to the panel
        </h1>
        <p className="muted login__subtitle">Manage game servers and plugins.</p>
        {notice && !error ? (
          <div className="notice notice--info" role="status">
            {notice}
          </div>
        ) : null}
        {error ? (
          <div className="notice notice--danger" role="alert" data-testid="login-error">
            {error}
          </div>
        ) : null}
        <form onSubmit={(event) => void submit(event)} className="login__form">
          <div className="field">
            <label className="field__label" htmlFor="login-username">
              Username
            </label>
            <input
              id="login-username"
              className="input"
              name="username"
              autoComplete="username"
              autoFocus
              required
              value={username}
              onChange={(e) => setUsername(e.target.value)}
            />
          </div>
          <div className="field">
            <label className="field__label" htmlFor="login-password">
              Password
            </label>
            <input
              id="login-password"
              className="input"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          </div>
          <Button type="submit" variant="primary" busy={busy} className="btn--block" disabled={!username || !password}>
            Sign in
          </Button>
        </form>
      </main>
    </div>
  );
}
