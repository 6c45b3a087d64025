// Terraform's argument lists, by command, Atlantis-style: each is built here
// and nowhere else, so everything the worker asks of Terraform reads in one
// place. The workspace runner (workspace-runner.ts) runs them.

// What the argument lists depend on: whether we hold the workspace's state
// lock ourselves (see state-lock.ts), and the job's variables file.
type Lock = { holdsLock: boolean };
type LockAndVars = Lock & { varFile: string };

// Terraform must not take a lock we hold already.
function lockArgs(o: Lock): string[] {
  return o.holdsLock ? ['-lock=false'] : [];
}

// Apply and destroy run alike: the whole configuration, without asking.
function applyAll(command: 'apply' | 'destroy', o: LockAndVars): string[] {
  return [command, '-auto-approve', '-input=false', '-json', ...lockArgs(o), `-var-file=${o.varFile}`];
}

export const commandLine = {
  apply: (o: LockAndVars) => applyAll('apply', o),
  // An update's plan, saved to `file` to apply later; exit code 2 means changes.
  planOut: (o: LockAndVars, file: string, destroy: boolean) => [
    'plan',
    '-input=false',
    '-json',
    '-detailed-exitcode',
    ...(destroy ? ['-destroy'] : []),
    `-out=${file}`,
    ...lockArgs(o),
    `-var-file=${o.varFile}`,
  ],
  // A saved plan as JSON, for the policies: it holds the plan's variables, so it is never logged.
  showPlan: (file: string) => ['show', '-json', '-no-color', file],
  // A saved plan carries its variables: none may be given again.
  applyPlan: (o: Lock, file: string) => ['apply', '-input=false', '-json', ...lockArgs(o), file],
  // A speculative plan: nothing is saved, no state is written.
  plan: (o: LockAndVars) => ['plan', '-input=false', '-json', ...lockArgs(o), `-var-file=${o.varFile}`],
  destroy: (o: LockAndVars) => applyAll('destroy', o),
  statePush: (o: Lock, file: string) => ['state', 'push', ...lockArgs(o), file],
  stateList: () => ['state', 'list'],
  workspaceNew: (name: string) => ['workspace', 'new', '-no-color', name],
  workspaceDelete: (name: string) => ['workspace', 'delete', '-no-color', name],
};
