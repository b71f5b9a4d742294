import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

/** "0:07", "12:30": a duration for people. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

interface Recording {
  recorder: MediaRecorder;
  stream: MediaStream;
  chunks: Blob[];
  startedAt: number;
}

function pickType(): string | undefined {
  return ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'].find((t) =>
    MediaRecorder.isTypeSupported(t),
  );
}

/**
 * The microphone button: records a voice note (MediaRecorder) showing the time, then Cancel
 * throws it away and Send hands the file and its length to `onRecorded`.
 * @param props.onRecorded gets the recorded file and its duration in milliseconds
 * @param props.disabled sending is paused or a file is uploading
 */
export function VoiceRecorder({
  onRecorded,
  disabled,
}: {
  onRecorded: (file: File, durationMs: number) => void;
  disabled: boolean;
}) {
  const { t } = useTranslation('att');
  const [rec, setRec] = useState<Recording | null>(null);
  const [elapsed, setElapsed] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const current = useRef<Recording | null>(null);
  current.current = rec;

  useEffect(() => {
    if (!rec) return;
    const timer = setInterval(() => setElapsed(Date.now() - rec.startedAt), 250);
    return () => clearInterval(timer);
  }, [rec]);
  // Leaving the page stops the microphone.
  useEffect(() => () => current.current?.stream.getTracks().forEach((tr) => tr.stop()), []);

  if (typeof MediaRecorder === 'undefined' || !navigator.mediaDevices?.getUserMedia) return null;

  const start = async () => {
    setError(null);
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const type = pickType();
      const recorder = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
      const chunks: Blob[] = [];
      recorder.ondataavailable = (e) => e.data.size > 0 && chunks.push(e.data);
      recorder.start(250);
      setElapsed(0);
      setRec({ recorder, stream, chunks, startedAt: Date.now() });
    } catch (err) {
      setError(t('micUnavailable', { reason: (err as Error).message || String(err) }));
    }
  };

  const finish = (send: boolean) => {
    if (!rec) return;
    const durationMs = Date.now() - rec.startedAt;
    rec.recorder.onstop = () => {
      rec.stream.getTracks().forEach((tr) => tr.stop());
      if (!send) return;
      const type = (rec.recorder.mimeType || 'audio/webm').split(';')[0] ?? 'audio/webm';
      const ext = type === 'audio/mp4' ? 'm4a' : type.split('/')[1];
      onRecorded(new File(rec.chunks, `voice-note.${ext}`, { type }), durationMs);
    };
    rec.recorder.stop();
    setRec(null);
  };

  if (!rec)
    return (
      <>
        <button
          type="button"
          className="file-button mic-button"
          aria-label={t('record')}
          title={t('record')}
          disabled={disabled}
          onClick={() => void start()}
        >
          <svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
            <path
              fill="currentColor"
              d="M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.92V21h2v-3.08A7 7 0 0 0 19 11h-2z"
            />
          </svg>
        </button>
        {error && (
          <span className="error small" role="alert">
            {error}
          </span>
        )}
      </>
    );
  return (
    <div
      className="voice-recording"
      role="group"
      aria-label={t('recording', { time: formatDuration(elapsed) })}
    >
      <span className="recording-dot" aria-hidden="true" />
      <span className="small" data-testid="recording-time">
        {t('recording', { time: formatDuration(elapsed) })}
      </span>
      <button type="button" className="link small" onClick={() => finish(false)}>
        {t('cancelRecording')}
      </button>
      <button type="button" className="small" onClick={() => finish(true)}>
        {t('sendRecording')}
      </button>
    </div>
  );
}
