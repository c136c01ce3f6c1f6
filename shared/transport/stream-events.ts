// The callback half of the Stream contract, shared by tcp.ts and memnet.ts so
// both buffer early data and report close exactly once in the same way.

export class StreamEvents {
  #dataCbs: ((d: Uint8Array) => void)[] = [];
  #closeCbs: ((err?: Error) => void)[] = [];
  // Data that came before anyone listened: a stream handed over through a
  // promise or an accept callback can receive bytes before its owner has had
  // the chance to call onData.
  #early: Uint8Array[] = [];
  #closed = false;
  #closeReported = false;
  #err: Error | undefined;

  get closed(): boolean {
    return this.#closed;
  }

  data(d: Uint8Array): void {
    if (this.#closed || d.length === 0) return;
    if (this.#dataCbs.length === 0) this.#early.push(d);
    else for (const cb of this.#dataCbs) cb(d);
  }

  /** Mark closed and report once. Later calls are ignored. */
  close(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#err = err;
    if (this.#closeCbs.length > 0) this.#reportClose();
  }

  onData(cb: (d: Uint8Array) => void): void {
    this.#dataCbs.push(cb);
    if (this.#dataCbs.length !== 1 || this.#early.length === 0) return;
    const early = this.#early;
    this.#early = [];
    // Early bytes still belong before the close, unless the close was already
    // reported to someone: nothing may follow an onClose.
    if (!this.#closeReported) for (const d of early) cb(d);
  }

  onClose(cb: (err?: Error) => void): void {
    if (this.#closeReported) {
      cb(this.#err);
      return;
    }
    this.#closeCbs.push(cb);
    if (this.#closed) this.#reportClose();
  }

  #reportClose(): void {
    this.#closeReported = true;
    this.#early = [];
    const cbs = this.#closeCbs;
    this.#closeCbs = [];
    for (const cb of cbs) cb(this.#err);
  }
}
