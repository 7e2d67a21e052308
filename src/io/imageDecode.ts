// Image decoding with the browser's own decoders (createImageBitmap), in a page or a worker, read back
// as RGBA through an OffscreenCanvas. Used by the studio's worker and the CLI's engine page. The header is
// read first (imageHeader.ts): unknown formats and images over MAX_IMAGE_PIXELS never reach the decoder.
import { MAX_IMAGE_PIXELS, checkImageHeader } from './imageHeader';
import type { PixelImage } from './preprocess';

export async function decodeImage(bytes: ArrayBuffer, name: string): Promise<PixelImage> {
  checkImageHeader(bytes, name);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes]));
  } catch {
    throw new Error(`${name}: not a decodable image (PNG, JPEG, BMP, WebP or GIF)`);
  }
  // The decoder's own size, in case it reads a size the header walk did not see.
  if (bitmap.width * bitmap.height > MAX_IMAGE_PIXELS) {
    bitmap.close();
    throw new Error(`${name}: decoded to ${bitmap.width} × ${bitmap.height}, over the ${MAX_IMAGE_PIXELS / 1e6} megapixel limit`);
  }
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const g = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D | null;
  if (!g) throw new Error('no 2D canvas to decode images with');
  g.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data, width, height } = g.getImageData(0, 0, canvas.width, canvas.height);
  return { data, width, height, channels: 4 };
}
