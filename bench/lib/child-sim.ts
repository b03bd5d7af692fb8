// Start a simulator script (stripe-child.ts, connectwise-child.ts) with fork() and talk to it over IPC.
import { fork } from 'node:child_process';
import path from 'node:path';

export interface ChildSim<Ready> {
  readonly ready: Ready;
  ask<T>(msg: Record<string, unknown>): Promise<T>;
  close(): Promise<void>;
}

export async function startChildSim<Ready>(script: string, env: Record<string, string>): Promise<ChildSim<Ready>> {
  const child = fork(path.join(import.meta.dirname, script), [], {
    // BENCH_CPU_PROF_DIR=dir profiles the simulator too (written when it is closed), to weigh its CPU share.
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`] : [])],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('message', (m: { type: string } & Ready) => (m.type === 'ready' ? resolve(m) : reject(new Error('unexpected message'))));
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
  });
  let next = 0;
  const ask = <T>(msg: Record<string, unknown>): Promise<T> =>
    new Promise<T>((resolve) => {
      const id = ++next;
      const onMessage = (m: { type: string; id: number; body: T }): void => {
        if (m.type === 'reply' && m.id === id) {
          child.off('message', onMessage);
          resolve(m.body);
        }
      };
      child.on('message', onMessage);
      child.send({ ...msg, id });
    });
  return {
    ready,
    ask,
    close: async () => {
      if (child.exitCode !== null) return;
      // Let it exit by itself (a profile is written at exit), then make sure it is gone.
      const exited = new Promise((r) => child.once('exit', r));
      await Promise.race([ask({ cmd: 'close' }).then(() => exited), new Promise((r) => setTimeout(r, 5000))]);
      child.kill('SIGKILL');
    },
  };
}
