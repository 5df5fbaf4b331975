// The plugin's scheduled tasks.
import { Card } from "../../components/ui";
import type { PluginDetail } from "../../lib/types";
import { TaskRow } from "./TaskRow";

export function TasksCard({ plugin }: { plugin: PluginDetail }) {
  return (
    <Card title="Scheduled tasks" className="span-2" data-testid="plugin-tasks">
      {plugin.tasks.length === 0 ? (
        <p className="muted">{plugin.status === "enabled" ? "No scheduled tasks." : "Tasks are registered while the plugin is enabled."}</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">Cron</th>
                <th scope="col">Next run</th>
                <th scope="col">Last run</th>
                <th scope="col">Runs</th>
                <th scope="col">Last error</th>
                <th scope="col">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {plugin.tasks.map((task) => (
                <TaskRow key={task.id} plugin={plugin} task={task} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
