// Child processes that can always be stopped with everything they started: each is spawned as the leader
// of its own process group (detached), so kill(-pid) reaches its children too (a simulator it forked, a
// PostgreSQL it started, a tsx worker). Used by bench/run.ts and the soak (soak/), whose runs must end even
// when a child hangs: an orphaned simulator holding a pipe open kept `npm run bench` from ever exiting.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface GroupChild {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves with the exit code or signal once the leader has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Signal the whole group (default SIGKILL); harmless if it is already gone. */
  kill(signal?: NodeJS.Signals): void;
}

const live = new Set<GroupChild>();

export function spawnGroup(command: string, args: readonly string[], options: SpawnOptions = {}): GroupChild {
  const child = spawn(command, args, { ...options, detached: true });
  if (child.pid === undefined) throw new Error(`could not start ${command} ${args.join(' ')}`);
  const pid = child.pid;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => resolve({ code: null, signal: null }));
  });
  const g: GroupChild = {
    child,
    pid,
    exited,
    kill: (signal = 'SIGKILL') => killGroup(pid, signal),
  };
  live.add(g);
  // The leader's exit does not end its group: whatever it left behind is killed with it.
  void exited.then(() => {
    killGroup(pid, 'SIGKILL');
    live.delete(g);
  });
  return g;
}

export function killGroup(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-pid, signal);
  } catch {
    /* group already gone */
  }
}

/** Kill every group started here (the last resort of an overall timeout, or of this process exiting). */
export function killAllGroups(): void {
  for (const g of live) g.kill('SIGKILL');
}

process.once('exit', killAllGroups);

/** Stop a child's group: SIGTERM, then SIGKILL after graceMs if it is still there. */
export async function stopGroup(g: GroupChild, graceMs = 5000): Promise<void> {
  if (g.child.exitCode !== null || g.child.signalCode !== null) return;
  g.kill('SIGTERM');
  const timer = setTimeout(() => g.kill('SIGKILL'), graceMs);
  await g.exited;
  clearTimeout(timer);
}

/** Ctrl-C or a SIGTERM to this run must not leave its detached children behind (they are not in our group). */
export function killGroupsOnSignals(onSignal: (signal: NodeJS.Signals) => void = () => {}): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping every child process group\n`);
      onSignal(signal);
      killAllGroups();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
}
