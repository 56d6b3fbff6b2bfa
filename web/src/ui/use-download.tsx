import { useCallback, useState, type ReactNode } from 'react';
import { downloadFile } from '../api/client';
import { ErrorNotice } from './ErrorNotice';

/**
 * Downloads through `downloadFile` (the tab's token in a header, a blob saved as a file; no token in
 * a URL), with the failure to show next to the control: `{ start(url, name), notice }`.
 */
export function useDownload(): { start: (url: string, fallbackName: string) => void; pending: boolean; notice: ReactNode } {
  const [error, setError] = useState<unknown>(null);
  const [pending, setPending] = useState(false);
  const start = useCallback((url: string, fallbackName: string) => {
    setError(null);
    setPending(true);
    downloadFile(url, fallbackName).then(
      () => setPending(false),
      (err: unknown) => {
        setPending(false);
        setError(err);
      },
    );
  }, []);
  const notice = error ? <ErrorNotice error={error} title="The download failed" /> : null;
  return { start, pending, notice };
}
