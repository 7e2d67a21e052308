// The CLI and the tests launch the same headless Chromium with the same flags.
export { CHROMIUM_ARGS, chromiumPath } from '../../src/cli/chromium';
