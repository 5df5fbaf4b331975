// One scheduled task, with its last run (and the instance running it now) and a button to run it now.
import { Button } from "../../components/ui";
import { errorMessage } from "../../lib/api";
import { formatDateTime, formatDuration, formatRelative } from "../../lib/format";
import { useRunTask } from "../../lib/queries";
import type { PluginDetail, PluginTask } from "../../lib/types";
import { toast } from "../../state/toasts";

export function TaskRow({ plugin, task }: { plugin: PluginDetail; task: PluginTask }) {
  const run = useRunTask(plugin.name);
  return (
    <tr data-testid="task-row">
      <td>
        <div className="strong">{task.name}</div>
        <code className="muted small">{task.id}</code>
      </td>
      <td>
        <code>{task.cron}</code>
      </td>
      <td title={formatDateTime(task.nextRun)}>{task.nextRun ? formatRelative(task.nextRun) : "—"}</td>
      <td title={formatDateTime(task.lastRun)}>
        {task.lastRun ? formatRelative(task.lastRun) : "never"}
        {task.lastDuration !== null && task.lastDuration !== undefined ? (
          <div className="muted small">took {formatDuration(task.lastDuration)}</div>
        ) : null}
        {task.runningOn ? <div className="muted small">running on {task.runningOn}</div> : null}
      </td>
      <td>
        {task.runCount ?? 0}
        {task.skippedCount ? <div className="muted small">{task.skippedCount} skipped</div> : null}
      </td>
      <td className="cell-error">{task.lastError ? <span className="text-danger">{task.lastError}</span> : <span className="muted">—</span>}</td>
      <td className="cell-actions">
        <Button
          size="small"
          icon="play"
          busy={run.isPending || task.running}
          disabled={plugin.status !== "enabled"}
          onClick={() =>
            run.mutate(task.id, {
              onSuccess: (r) =>
                toast.success(r.message === "Task ran" ? `Task ${task.name} ran` : `Task ${task.name} started; it is still running`),
              onError: (e) => toast.error(`Could not run task ${task.name}: ${errorMessage(e)}`),
            })
          }
          aria-label={`Run ${task.name} now`}
        >
          Run now
        </Button>
      </td>
    </tr>
  );
}
