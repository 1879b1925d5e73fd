// Where things are: the repository root, the binaries the run assumes are built, the
// screenshot folder.

import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const PROFILE = process.env.ORGDESK_E2E_PROFILE ?? 'debug';

/** The desktop app, built with the custom protocol (`npx tauri build --debug --no-bundle`). */
export const APP_BIN = process.env.ORGDESK_E2E_APP ?? path.join(TARGET, PROFILE, 'orgdesk-desktop');
/** The `orgdesk` CLI (`cargo build -p orgdesk-client`): a second client, and the app's cache seen from outside. */
export const CLI_BIN = process.env.ORGDESK_E2E_CLI ?? path.join(TARGET, PROFILE, 'orgdesk');
/** `cargo build -p orgdesk-server`. */
export const SERVER_BIN = process.env.ORGDESK_E2E_SERVER ?? path.join(TARGET, PROFILE, 'orgdesk-server');
export const TAURI_DRIVER = process.env.TAURI_DRIVER ?? 'tauri-driver';
export const NATIVE_DRIVER = process.env.ORGDESK_E2E_NATIVE_DRIVER ?? '/usr/bin/WebKitWebDriver';
/** Every screenshot of a run goes here (CI keeps the folder). */
export const SHOTS_DIR = path.resolve(ROOT, process.env.ORGDESK_E2E_SHOTS ?? path.join('target', 'e2e-shots'));
