// The Terraform processes on this machine working on a workspace, found by
// their environment, for tests that must see how many run at once.
import { readdir, readFile } from 'node:fs/promises';

// The pids of Terraform processes with TF_WORKSPACE=workspace whose command
// line matches `command` (any Terraform command when omitted).
export async function terraformProcesses(workspace: string, command?: RegExp): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const [environ, cmdline] = await Promise.all([
        readFile(`/proc/${entry}/environ`, 'utf8'),
        readFile(`/proc/${entry}/cmdline`, 'utf8'),
      ]);
      const args = cmdline.split('\0');
      if (!environ.split('\0').includes(`TF_WORKSPACE=${workspace}`) || !/terraform/.test(cmdline)) continue;
      if (command && !args.some((arg) => command.test(arg))) continue;
      pids.push(Number(entry));
    } catch {
      // gone, or not ours
    }
  }
  return pids;
}

// Samples the workspace's Terraform processes running `command` until
// stopped; `most` is the largest number seen at once.
export function watchTerraform(
  workspace: string,
  command: RegExp,
): { stop(): Promise<{ most: number; samples: number }> } {
  let most = 0;
  let samples = 0;
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      most = Math.max(most, (await terraformProcesses(workspace, command)).length);
      samples += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { most, samples };
    },
  };
}
