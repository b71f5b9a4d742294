import { v2 as cloudinary } from 'cloudinary';

/**
 * The logo URL mails embed: built by the Cloudinary SDK when CLOUDINARY_URL is set (only the
 * cloud name is needed: the URL is public and unsigned), else the product's own static file.
 * @param options Cloudinary URL, logo public id, public base URL
 * @returns absolute URL
 */
export function logoUrl(options: { cloudinaryUrl: string | undefined; logoId: string; publicBaseUrl: string }): string {
  if (options.cloudinaryUrl) {
    const cloudName = new URL(options.cloudinaryUrl).hostname;
    return cloudinary.url(options.logoId, {
      cloud_name: cloudName,
      secure: true,
      format: 'png',
      transformation: [{ width: 96, height: 96, crop: 'fit' }],
      // no SDK analytics query parameter in mails
      urlAnalytics: false,
    });
  }
  return `${options.publicBaseUrl}/logo.png`;
}
