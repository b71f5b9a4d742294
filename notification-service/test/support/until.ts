/**
 * Awaits a condition that only an outside system can report (a row committed by another
 * process): checks it now and after each short pause, failing with a clear message on timeout.
 * @param what description for the error
 * @param check the condition
 * @param timeoutMs limit
 */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
