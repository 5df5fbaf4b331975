// The config form, generated from a plugin's `configSchema`. It starts from the saved values
// (`detail.config`, secrets masked), shows each default as a hint, sends only the keys that
// changed, sends a secret only when a new one was typed, and shows the server's per-field errors.
import { useEffect, useEffectEvent, useId, useMemo, useState, type FormEvent } from "react";
import { ApiError } from "../lib/api";
import type { ConfigFieldSchema, ConfigSchema } from "../lib/types";
import { Button } from "./ui";

export const SECRET_MASK = "********";

type FormValue = string | boolean;

/** A scalar as text, anything else as JSON. */
function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return value.toString();
  return JSON.stringify(value) ?? "";
}
type FormValues = Record<string, FormValue>;

/** Arrays and objects (a bare default such as `["a", "b"]` in plugin.json) are edited as JSON. */
function isJson(field: ConfigFieldSchema): boolean {
  return field.type === "array" || field.type === "object";
}

function isSecret(field: ConfigFieldSchema): boolean {
  return field.secret || field.type === "secret" || field.type === "password";
}

/** A saved value as the form edits it: numbers and text as strings, booleans as booleans. */
export function toFormValue(field: ConfigFieldSchema, value: unknown): FormValue {
  if (isSecret(field)) return ""; // never shown; typing a new one replaces it
  if (field.type === "boolean") return value === true;
  if (value === null || value === undefined) return "";
  if (isJson(field)) return JSON.stringify(value, null, 2);
  return asText(value);
}

export function initialFormValues(schema: ConfigSchema, config: Record<string, unknown>): FormValues {
  return Object.fromEntries(
    Object.entries(schema).map(([key, field]) => [key, toFormValue(field, key in config ? config[key] : field.default)]),
  );
}

/** The value to send for one field, or an error message for a value that cannot be sent. */
export function fromFormValue(field: ConfigFieldSchema, value: FormValue): { value: unknown } | { error: string } {
  if (field.type === "boolean") return { value: value === true };
  const text = typeof value === "string" ? value : String(value);
  if (field.type === "number" || field.type === "integer") {
    if (text.trim() === "") return { value: null };
    const number = Number(text);
    if (!Number.isFinite(number)) return { error: "Enter a number" };
    if (field.type === "integer" && !Number.isInteger(number)) return { error: "Enter a whole number" };
    return { value: number };
  }
  if (field.type === "select" && text === "") return { value: null };
  if (isJson(field)) {
    if (text.trim() === "") return { value: null };
    const wanted = field.type === "array" ? "a JSON array" : "a JSON object";
    try {
      const parsed: unknown = JSON.parse(text);
      const isArray = Array.isArray(parsed);
      const fits = field.type === "array" ? isArray : parsed !== null && typeof parsed === "object" && !isArray;
      return fits ? { value: parsed } : { error: `Enter ${wanted}` };
    } catch {
      return { error: `Enter ${wanted}` };
    }
  }
  return { value: text };
}

/**
 * What to send: only the keys whose value differs from the saved one. A secret is sent only when
 * something was typed into it (or it was cleared on purpose).
 */
export function changedValues(
  schema: ConfigSchema,
  initial: FormValues,
  current: FormValues,
  clearedSecrets: ReadonlySet<string> = new Set(),
): { changes: Record<string, unknown>; errors: Record<string, string> } {
  const changes: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const [key, field] of Object.entries(schema)) {
    if (isSecret(field)) {
      if (clearedSecrets.has(key)) changes[key] = "";
      else if (current[key] !== "") changes[key] = current[key];
      continue;
    }
    if (current[key] === initial[key]) continue;
    const result = fromFormValue(field, current[key]);
    if ("error" in result) errors[key] = result.error;
    else changes[key] = result.value;
  }
  return { changes, errors };
}

function defaultHint(field: ConfigFieldSchema): string | null {
  if (isSecret(field)) return null;
  const value = field.default;
  if (value === null || value === undefined || value === "") return null;
  if (field.type === "boolean") return `Default: ${value ? "on" : "off"}`;
  if (field.type === "select") {
    const option = field.options?.find((o) => o.value === value);
    return `Default: ${option?.label ?? asText(value)}`;
  }
  return `Default: ${typeof value === "string" ? value : JSON.stringify(value)}`;
}

function boundsHint(field: ConfigFieldSchema): string | null {
  const unit = field.type === "string" || field.type === "text" ? " characters" : "";
  if (field.min !== undefined && field.max !== undefined) return `${field.min}–${field.max}${unit}`;
  if (field.min !== undefined) return `at least ${field.min}${unit}`;
  if (field.max !== undefined) return `at most ${field.max}${unit}`;
  return null;
}

interface ConfigFormProps {
  schema: ConfigSchema;
  /** The saved values as the API shows them (secrets that are set come as "********"). */
  config: Record<string, unknown>;
  /** Saves the changes; rejects with an ApiError whose `fieldErrors` name the bad keys. */
  onSave: (changes: Record<string, unknown>) => Promise<unknown>;
  disabled?: boolean;
}

export function ConfigForm({ schema, config, onSave, disabled = false }: ConfigFormProps) {
  const formId = useId();
  const fromConfig = useMemo(() => initialFormValues(schema, config), [schema, config]);
  // What the inputs are compared with: the saved values (updated after a save at once, before
  // the refetch brings them back).
  const [baseline, setBaseline] = useState<FormValues>(fromConfig);
  const [values, setValues] = useState<FormValues>(fromConfig);
  const [cleared, setCleared] = useState<Set<string>>(new Set());
  const [fieldErrors, setFieldErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  const pending = changedValues(schema, baseline, values, cleared);
  const dirty = Object.keys(pending.changes).length > 0 || Object.keys(pending.errors).length > 0;

  // New saved values (after a save, or changed elsewhere): take them unless the user is editing.
  const takeSaved = useEffectEvent((saved: FormValues) => {
    if (dirty) return;
    setBaseline(saved);
    setValues(saved);
  });
  useEffect(() => takeSaved(fromConfig), [fromConfig]);

  const set = (key: string, value: FormValue) => {
    setValues((v) => ({ ...v, [key]: value }));
    setSaved(false);
    setFieldErrors((e) => {
      if (!(key in e)) return e;
      const copy = { ...e };
      delete copy[key];
      return copy;
    });
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const result = changedValues(schema, baseline, values, cleared);
    setFormError(null);
    if (Object.keys(result.errors).length) {
      setFieldErrors(result.errors);
      return;
    }
    if (Object.keys(result.changes).length === 0) return;
    setSaving(true);
    try {
      await onSave(result.changes);
      setFieldErrors({});
      setCleared(new Set());
      // What was sent is now saved; typed secrets are emptied from their inputs again.
      const next = { ...values };
      for (const [key, field] of Object.entries(schema)) if (isSecret(field)) next[key] = "";
      setBaseline(next);
      setValues(next);
      setSaved(true);
    } catch (error) {
      if (error instanceof ApiError && Object.keys(error.fieldErrors).length) {
        setFieldErrors(error.fieldErrors);
        const unknownKeys = Object.keys(error.fieldErrors).filter((k) => !(k in schema));
        setFormError(
          unknownKeys.length
            ? unknownKeys.map((k) => error.fieldErrors[k]).join("; ")
            : "Some values were refused; see the fields below.",
        );
      } else {
        setFormError(error instanceof Error ? error.message : String(error));
      }
    } finally {
      setSaving(false);
    }
  };

  const reset = () => {
    setValues(baseline);
    setCleared(new Set());
    setFieldErrors({});
    setFormError(null);
  };

  const entries = Object.entries(schema);
  if (entries.length === 0) return <p className="muted">This plugin has no settings.</p>;

  return (
    <form className="config-form" onSubmit={(event) => void submit(event)} noValidate aria-label="Plugin configuration">
      {formError ? (
        <div className="notice notice--danger" role="alert">
          {formError}
        </div>
      ) : null}
      {entries.map(([key, field]) => {
        const id = `${formId}-${key}`;
        const error = fieldErrors[key];
        const hintId = `${id}-hint`;
        const errorId = `${id}-error`;
        const describedBy = [hintId, error ? errorId : ""].filter(Boolean).join(" ");
        const hints = [field.description, defaultHint(field), boundsHint(field)].filter(Boolean).join(" · ");
        const secretSet = isSecret(field) && config[key] === SECRET_MASK && !cleared.has(key);
        const common = {
          id,
          name: key,
          disabled: disabled || saving,
          "aria-invalid": error ? true : undefined,
          "aria-describedby": describedBy,
          "data-config-key": key,
        } as const;
        let input;
        if (field.type === "boolean") {
          input = (
            <label className="switch">
              <input
                {...common}
                type="checkbox"
                role="switch"
                checked={values[key] === true}
                onChange={(e) => set(key, e.target.checked)}
              />
              <span className="switch__track" aria-hidden="true">
                <span className="switch__thumb" />
              </span>
              <span className="switch__label">{values[key] === true ? "On" : "Off"}</span>
            </label>
          );
        } else if (field.type === "text" || isJson(field)) {
          input = (
            <textarea
              {...common}
              className="input"
              rows={4}
              value={String(values[key])}
              placeholder={typeof field.default === "string" ? field.default : undefined}
              spellCheck={isJson(field) ? false : undefined}
              onChange={(e) => set(key, e.target.value)}
            />
          );
        } else if (field.type === "select") {
          input = (
            <select {...common} className="input" value={String(values[key])} onChange={(e) => set(key, e.target.value)}>
              {!field.required || values[key] === "" ? <option value="">—</option> : null}
              {(field.options ?? []).map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          );
        } else if (isSecret(field)) {
          input = (
            <div className="input-row">
              <input
                {...common}
                className="input"
                type="password"
                autoComplete="new-password"
                value={String(values[key])}
                placeholder={secretSet ? "•••••••• saved — type to replace" : "Not set"}
                onChange={(e) => {
                  set(key, e.target.value);
                  setCleared((c) => {
                    const copy = new Set(c);
                    copy.delete(key);
                    return copy;
                  });
                }}
              />
              {secretSet ? (
                <Button
                  size="small"
                  variant="ghost"
                  onClick={() => {
                    setCleared((c) => new Set(c).add(key));
                    set(key, "");
                  }}
                >
                  Clear
                </Button>
              ) : null}
            </div>
          );
        } else if (field.type === "number" || field.type === "integer") {
          input = (
            <input
              {...common}
              className="input"
              type="number"
              inputMode={field.type === "integer" ? "numeric" : "decimal"}
              step={field.type === "integer" ? 1 : "any"}
              min={field.min}
              max={field.max}
              value={String(values[key])}
              placeholder={field.default !== null && field.default !== undefined ? asText(field.default) : undefined}
              onChange={(e) => set(key, e.target.value)}
            />
          );
        } else {
          input = (
            <input
              {...common}
              className="input"
              type="text"
              value={String(values[key])}
              placeholder={typeof field.default === "string" ? field.default : undefined}
              onChange={(e) => set(key, e.target.value)}
            />
          );
        }
        return (
          <div className={`field ${error ? "field--invalid" : ""}`} key={key}>
            <label className="field__label" htmlFor={id}>
              {field.label || key}
              {field.required ? <span className="field__required" aria-hidden="true"> *</span> : null}
              <code className="field__key">{key}</code>
            </label>
            {input}
            {hints ? (
              <div className="field__hint" id={hintId}>
                {hints}
              </div>
            ) : null}
            {error ? (
              <div className="field__error" id={errorId} role="alert" data-testid={`config-error-${key}`}>
                {error}
              </div>
            ) : null}
          </div>
        );
      })}
      <div className="form-actions">
        <Button type="submit" variant="primary" busy={saving} disabled={disabled || !dirty}>
          Save changes
        </Button>
        <Button variant="ghost" onClick={reset} disabled={!dirty || saving}>
          Discard
        </Button>
        {saved && !dirty ? (
          <span className="muted small" role="status">
            Saved.
          </span>
        ) : null}
      </div>
    </form>
  );
}
