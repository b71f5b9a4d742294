/** An image preview carried inside the encrypted message (made by the sender). */
export interface ThumbnailView {
  /** A `data:` URL of the small image (CSP img-src allows `data:`). */
  url: string;
  width: number;
  height: number;
}

/** An encrypted attachment as referenced inside a message (the key never leaves the SDK's care). */
export interface AttachmentView {
  id: string;
  contentType: string;
  size: number;
  fileName?: string;
  /** Shown at once while the full image downloads. */
  thumbnail?: ThumbnailView;
  /** A voice note: played inline. */
  voice?: { durationMs: number };
}

/** How far an upload or download got. */
export interface TransferProgress {
  loaded: number;
  total: number | undefined;
}

/** Progress and cancel of one upload or download. */
export interface FileTransfer {
  onProgress?: (p: TransferProgress) => void;
  /** Aborting cancels the transfer (it rejects with code `cancelled`). */
  signal?: AbortSignal;
  /** The file is a recorded voice note of this length. */
  voiceDurationMs?: number;
}
