import { Component, type ErrorInfo, type ReactNode } from "react";

interface Props {
  plugin: string;
  displayName?: string;
  /** What failed, for the message: "tab Example", "slot dashboard.widgets". */
  area?: string;
  /** Changing it (e.g. the module's generation after a reload) clears the error. */
  resetKey?: unknown;
  children: ReactNode;
}

interface State {
  error: Error | null;
  resetKey: unknown;
}

/**
 * Catches whatever a plugin component throws while rendering, so one broken plugin shows an
 * error card naming it and the rest of the host keeps working.
 */
export class PluginErrorBoundary extends Component<Props, State> {
  override state: State = { error: null, resetKey: this.props.resetKey };

  static getDerivedStateFromError(error: unknown): Partial<State> {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  static getDerivedStateFromProps(props: Props, state: State): Partial<State> | null {
    if (props.resetKey !== state.resetKey) return { error: null, resetKey: props.resetKey };
    return null;
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`Plugin "${this.props.plugin}" crashed`, error, info.componentStack);
  }

  private retry = () => this.setState({ error: null });

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    const name = this.props.displayName ?? this.props.plugin;
    return (
      <div className="plugin-error card" role="alert" data-testid="plugin-error" data-plugin={this.props.plugin}>
        <div className="plugin-error__title">
          <span aria-hidden="true">⚠</span> The plugin “{name}” failed
          {this.props.area ? <> in its {this.props.area}</> : null}
        </div>
        <p className="plugin-error__message">{error.message || String(error)}</p>
        <p className="muted small">
          The rest of Catalyst keeps working. Plugin <code>{this.props.plugin}</code>; see the browser console
          for the stack.
        </p>
        <div>
          <button type="button" className="btn btn--small" onClick={this.retry}>
            Try again
          </button>
        </div>
      </div>
    );
  }
}
