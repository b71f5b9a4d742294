import { useState } from 'react';
import { describeError } from '../state/index.js';

/**
 * Busy flag, error and success message of a settings form, and their rendering.
 * @param explain words an error (default: {@link describeError})
 * @returns `busy`, `run(work)` (work resolves to the success message) and the `status` element
 */
export function useFormStatus(explain: (e: unknown) => string = describeError) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (work: () => Promise<string>) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await work());
    } catch (e) {
      setError(explain(e));
    } finally {
      setBusy(false);
    }
  };
  const status = (
    <>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {done && <p role="status">{done}</p>}
    </>
  );
  return { busy, run, status };
}
