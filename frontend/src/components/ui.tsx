// Small building blocks shared by the host pages and lent to plugin frontends (Catalyst.ui).
import {
  useEffect,
  useId,
  useRef,
  type ButtonHTMLAttributes,
  type ReactNode,
} from "react";
import type { ManifestProblem } from "../lib/types";
import { Icon, type IconName } from "./icons";
import "./ui/page.css";
import "./ui/cards.css";
import "./ui/buttons.css";
import "./ui/badges.css";
import "./ui/forms.css";
import "./ui/toolbar.css";
import "./ui/lists.css";
import "./ui/tables.css";
import "./ui/notices.css";
import "./ui/dialog.css";

export function Spinner({ label = "Loading", inline = false }: { label?: string; inline?: boolean }) {
  return (
    <span className={inline ? "spinner spinner--inline" : "spinner-block"} role="status" aria-live="polite">
      <span className="spinner__ring" aria-hidden="true" />
      <span className={inline ? "sr-only" : "spinner__label"}>{label}…</span>
    </span>
  );
}

type Variant = "primary" | "secondary" | "ghost" | "danger";

export function Button({
  variant = "secondary",
  size,
  icon,
  busy = false,
  children,
  className,
  disabled,
  type = "button",
  ...rest
}: ButtonHTMLAttributes<HTMLButtonElement> & {
  variant?: Variant;
  size?: "small";
  icon?: IconName;
  busy?: boolean;
}) {
  const classes = ["btn", `btn--${variant}`, size ? `btn--${size}` : "", className ?? ""].filter(Boolean).join(" ");
  return (
    <button type={type} className={classes} disabled={busy || disabled} aria-busy={busy || undefined} {...rest}>
      {busy ? <span className="spinner__ring spinner__ring--small" aria-hidden="true" /> : icon ? <Icon name={icon} size={16} /> : null}
      {children}
    </button>
  );
}

export function Card({
  title,
  actions,
  children,
  className,
  id,
  ...rest
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children?: ReactNode;
  className?: string;
  id?: string;
  "data-testid"?: string;
}) {
  const headingId = useId();
  return (
    <section className={`card ${className ?? ""}`} aria-labelledby={title ? headingId : undefined} id={id} {...rest}>
      {(title || actions) && (
        <header className="card__header">
          {title ? (
            <h2 className="card__title" id={headingId}>
              {title}
            </h2>
          ) : (
            <span />
          )}
          {actions ? <div className="card__actions">{actions}</div> : null}
        </header>
      )}
      <div className="card__body">{children}</div>
    </section>
  );
}

export type Tone = "success" | "warning" | "danger" | "neutral" | "info";

export function Badge({ tone = "neutral", children, title }: { tone?: Tone; children: ReactNode; title?: string }) {
  return (
    <span className={`badge badge--${tone}`} title={title}>
      {children}
    </span>
  );
}

const STATUS_TONES: Record<string, Tone> = {
  enabled: "success",
  running: "success",
  disabled: "neutral",
  stopped: "neutral",
  loaded: "info",
  discovered: "info",
  starting: "warning",
  stopping: "warning",
  unloaded: "neutral",
  error: "danger",
  restarting: "warning",
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span
      className={`badge badge--${STATUS_TONES[status] ?? "neutral"} badge--dot${status === "restarting" ? " badge--pulse" : ""}`}
      data-status={status}
    >
      {status}
    </span>
  );
}

export function Switch({
  checked,
  onChange,
  label,
  disabled,
  id,
  hideLabel = false,
}: {
  checked: boolean;
  onChange: (checked: boolean) => void;
  label: string;
  disabled?: boolean;
  id?: string;
  hideLabel?: boolean;
}) {
  return (
    <label className={`switch ${disabled ? "switch--disabled" : ""}`} title={hideLabel ? label : undefined}>
      <input
        id={id}
        type="checkbox"
        role="switch"
        checked={checked}
        disabled={disabled}
        aria-checked={checked}
        onChange={(e) => onChange(e.target.checked)}
      />
      <span className="switch__track" aria-hidden="true">
        <span className="switch__thumb" />
      </span>
      <span className={hideLabel ? "sr-only" : "switch__label"}>{label}</span>
    </label>
  );
}

export function EmptyState({ title, children, icon = "puzzle" }: { title: string; children?: ReactNode; icon?: IconName }) {
  return (
    <div className="empty">
      <Icon name={icon} size={32} />
      <div className="empty__title">{title}</div>
      {children ? <div className="muted">{children}</div> : null}
    </div>
  );
}

export function ErrorNotice({ title = "Something went wrong", error, onRetry }: { title?: string; error: unknown; onRetry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div className="notice notice--danger" role="alert">
      <Icon name="alert" />
      <div>
        <strong>{title}</strong>
        <div>{message}</div>
      </div>
      {onRetry ? (
        <Button size="small" onClick={onRetry}>
          Retry
        </Button>
      ) : null}
    </div>
  );
}

/** A modal dialog on the native <dialog> element (focus trap and Escape for free). */
export function Dialog({
  open,
  title,
  children,
  footer,
  onClose,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  footer: ReactNode;
  onClose: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      if (typeof dialog.showModal === "function") dialog.showModal();
      else dialog.setAttribute("open", "");
    } else if (!open && dialog.open) {
      if (typeof dialog.close === "function") dialog.close();
      else dialog.removeAttribute("open");
    }
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {open ? (
        <>
          <h2 className="dialog__title" id={titleId}>
            {title}
          </h2>
          <div className="dialog__body">{children}</div>
          <div className="dialog__footer">{footer}</div>
        </>
      ) : null}
    </dialog>
  );
}

export function PageHeader({ title, subtitle, actions, back }: { title: ReactNode; subtitle?: ReactNode; actions?: ReactNode; back?: ReactNode }) {
  return (
    <div className="page-header">
      <div>
        {back}
        <h1 className="page-title">{title}</h1>
        {subtitle ? <div className="page-subtitle">{subtitle}</div> : null}
      </div>
      {actions ? <div className="page-actions">{actions}</div> : null}
    </div>
  );
}

/** What a manifest had that only the original system accepted: shown, never fatal. */
export function ManifestWarnings({ warnings }: { warnings?: ManifestProblem[] }) {
  if (!warnings?.length) return null;
  return (
    <div className="inline-warning" data-testid="plugin-warnings">
      <Icon name="alert" size={16} />
      <div>
        Accepted with {warnings.length === 1 ? "a warning" : `${warnings.length} warnings`}:
        <ProblemList problems={warnings} />
      </div>
    </div>
  );
}

/** Every manifest problem of a plugin, each with its JSON path; nothing when there are none. */
export function ProblemList({ problems }: { problems: ManifestProblem[] }) {
  if (!problems.length) return null;
  return (
    <ul className="problem-list">
      {problems.map((e, i) => (
        <li key={i}>
          <code>{e.path || "(manifest)"}</code> {e.message}
        </li>
      ))}
    </ul>
  );
}
