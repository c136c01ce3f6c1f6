// Exit-time safety net: while any bed is alive, the process ends it on
// 'exit' (synchronously, the loop will not turn again) and on SIGINT/SIGTERM
// (then exits 130/143 like a shell would). Handlers exist only while a bed is
// alive, so a process without beds keeps its default signal behaviour.

export interface SyncDestroyable {
  destroySync(): void;
}

const live = new Set<SyncDestroyable>();

function destroyAll(): void {
  for (const bed of [...live]) {
    try {
      bed.destroySync();
    } catch (e) {
      process.stderr.write(`test bed cleanup: ${(e as Error).message}\n`);
    }
  }
}

const onExit = (): void => destroyAll();
const onSigint = (): void => {
  destroyAll();
  process.exit(130);
};
const onSigterm = (): void => {
  destroyAll();
  process.exit(143);
};

export function registerLive(bed: SyncDestroyable): void {
  if (live.size === 0) {
    process.on('exit', onExit);
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
  }
  live.add(bed);
}

export function unregisterLive(bed: SyncDestroyable): void {
  if (!live.delete(bed) || live.size > 0) return;
  process.off('exit', onExit);
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
}
