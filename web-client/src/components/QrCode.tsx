import QRCode from 'qrcode';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * A QR code rendered locally (no network) as a PNG data URL; the CSP allows `data:` images.
 * @param props.value text to encode
 * @param props.label accessible description
 */
export function QrCode({ value, label }: { value: string; label: string }) {
  const { t } = useTranslation('safety');
  const [src, setSrc] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let cancelled = false;
    QRCode.toDataURL(value, { errorCorrectionLevel: 'M', margin: 2, width: 240 }).then(
      (url) => !cancelled && setSrc(url),
      () => !cancelled && setFailed(true),
    );
    return () => {
      cancelled = true;
    };
  }, [value]);
  if (failed) return <p className="error">{t('qrFailed')}</p>;
  if (!src) return <div className="qr-placeholder" aria-busy="true" />;
  return <img className="qr" src={src} alt={label} width={240} height={240} />;
}
