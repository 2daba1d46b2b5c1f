// Starts the real binaries for the Node client tests: the Bedrock emulator and the gateway in
// front of it, each on a free loopback port. Build them first with
// `cargo build --workspace --bins`; BEDROCK_GATEWAY_BIN / BEDROCK_EMULATOR_BIN point elsewhere.

import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(fileURLToPath(import.meta.url), '../../../..');
const targetDir = process.env.CARGO_TARGET_DIR ?? join(repoRoot, 'target');
const startupMs = 30_000;

export const API_KEY = 'node-client-tests-key';
export const CHAT_MODEL = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';

function binary(name, envVar) {
  const path = process.env[envVar] || join(targetDir, 'debug', name);
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist: build the binaries first with \`cargo build --workspace --bins\` (or set ${envVar})`);
  }
  return path;
}

// A minimal environment, so no developer AWS profile or token can reach real AWS.
function isolatedEnv(extra) {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    RUST_LOG: process.env.RUST_LOG ?? 'info',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

// Spawns `command` and resolves with its child and the URL from the stdout line matching
// `pattern`. stderr goes to a log file, so a chatty server never blocks on a full pipe.
function start(command, args, env, pattern) {
  const logPath = join(tmpdir(), `${command.split('/').pop()}-${process.pid}-${Date.now()}.log`);
  const logFd = openSync(logPath, 'w');
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', logFd] });
  closeSync(logFd);
  return new Promise((resolvePromise, reject) => {
    const fail = (why) => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${why}\nstderr: ${readFileSync(logPath, 'utf8').slice(-4000)}`));
    };
    const timer = setTimeout(() => fail(`did not announce its address within ${startupMs} ms`), startupMs);
    child.once('exit', (code) => { clearTimeout(timer); fail(`exited with code ${code} before announcing its address`); });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const match = line.match(pattern);
      if (match) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolvePromise({ child, url: match[1] });
      }
    });
  });
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  await exited;
}

// Starts the emulator, then the gateway on it. Returns the OpenAI base URL and a stop function.
export async function startGateway() {
  const emulator = await start(
    binary('bedrock-emulator', 'BEDROCK_EMULATOR_BIN'),
    ['--host', '127.0.0.1', '--port', '0'],
    isolatedEnv({}),
    /bedrock-emulator listening on (http:\/\/\S+)/,
  );
  let gateway;
  try {
    gateway = await start(
      binary('bedrock-gateway', 'BEDROCK_GATEWAY_BIN'),
      [],
      isolatedEnv({
        HOST: '127.0.0.1',
        PORT: '0',
        API_KEY,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'emulator-secret',
        AWS_ENDPOINT_URL_BEDROCK_RUNTIME: emulator.url,
        AWS_ENDPOINT_URL_BEDROCK: emulator.url,
      }),
      /bedrock-gateway listening on (http:\/\/\S+)/,
    );
  } catch (err) {
    await stop(emulator.child);
    throw err;
  }
  return {
    baseURL: `${gateway.url}/api/v1`,
    stop: async () => {
      await stop(gateway.child);
      await stop(emulator.child);
    },
  };
}
