/** The "verified" mark next to a contact whose safety number I compared. */
export function VerifiedMark() {
  return (
    <span className="verified" title="Safety number verified">
      <span aria-hidden="true">✔</span> Verified
    </span>
  );
}
