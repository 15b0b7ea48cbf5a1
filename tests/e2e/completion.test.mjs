// SPDX-License-Identifier: Apache-2.0
// Shell completions: the bash script loaded in a real bash and its completion function driven as
// readline drives it (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT), the fish script through
// `complete -C`, the zsh script loaded under compinit; and the hidden `fracta __complete` that
// they call, which never fails and never writes to stderr.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { fracta, fractaBin, runProgram, shellQuote, show, tmpdir, writeConfig } from './lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const DOC = path.resolve(here, '..', '..', 'docs', 'cli.md');
const ZSH_DRIVER = path.join(here, 'lib', 'zsh-complete.zsh');
const docSection = () => fs.readFileSync(DOC, 'utf8').split('\n## Shell completions\n')[1].split('\n## ')[0];

const dir = tmpdir();
const bin = path.join(dir, 'bin');
fs.mkdirSync(bin);
fs.symlinkSync(fractaBin(), path.join(bin, 'fracta'));  // the shell finds `fracta` on PATH
const PATH = `${bin}:${process.env.PATH}`;

const server = (name) => `[mcp.servers.${name}.remote]\nurl = "https://${name}.example.com/mcp"\n\n`;
const cfg = writeConfig(dir, server('notion') + server('github') + server('notebook'));
const other = writeConfig(dir, server('nova') + server('zeta'), 'other.toml');
const broken = writeConfig(dir, '[mcp.servers.notion\nurl = 3\n', 'broken.toml');
const files = path.join(dir, 'files');
fs.mkdirSync(files);
for (const f of ['cfg-a.toml', 'cfg-b.toml', 'notes.txt']) fs.writeFileSync(path.join(files, f), '');

// The words bash makes of a line typed up to the cursor: split at blanks, and at '=' (in
// COMP_WORDBREAKS) into a word of its own.
function bashWords(line) {
  const words = [];
  for (const w of line.split(' ')) {
    const parts = w.split('=');  // 'a=b' → a = b; 'a=' → a = (the cursor on '='); '' → ''
    parts.forEach((p, i) => {
      if (i > 0) words.push('=');
      if (p !== '' || parts.length === 1) words.push(p);
    });
  }
  return words;
}

async function shell(program, args, env = {}) {
  const r = await runProgram(program, args, { env: { PATH, FRACTA_CONFIG: cfg, ...env } });
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stderr, '', show(r));
  return r.stdout;
}

// Loads `fracta completion bash` in `bash --norc --noprofile` and completes `line` (the cursor
// at its end); resolves to COMPREPLY.
async function bashComplete(line, env) {
  const words = bashWords(line);
  const script = [
    'source <(fracta completion bash) || exit 3',
    '[[ $(complete -p fracta) == "complete -F _fracta fracta" ]] || exit 4',
    `COMP_WORDS=(${words.map(shellQuote).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE=${shellQuote(line)}`,
    `COMP_POINT=${line.length}`,
    'COMPREPLY=()',
    '_fracta || exit 5',
    'for w in "${COMPREPLY[@]}"; do printf "%s\\n" "$w"; done',
  ].join('\n');
  const out = await shell('bash', ['--norc', '--noprofile', '-c', script], env);
  return out.split('\n').filter((l) => l !== '');
}

const TOP = ['version', 'plugins', 'config', 'mcp', 'call', 'tools', 'proxy', 'gateway', 'completion'];
const ADD_FLAGS = ['--help', '--url', '--header', '--request-timeout', '--auth', '--set', '--secret', '--oauth',
  '--client-id', '--client-secret-env', '--client-secret', '--scope', '--config', '--verbose'];

// [line typed, exact COMPREPLY, extra environment]
const BASH = [
  ['fracta con', ['config']],
  ['fracta ', TOP],
  ['fracta co', ['config', 'completion']],
  ['fracta __', []],
  ['fracta config mcp au', ['auth']],
  ['fracta config mcp auth ', ['login', 'status', 'logout', 'export']],
  ['fracta call --req', ['--request-timeout']],
  ['fracta config mcp add x --', ADD_FLAGS],
  ['fracta -', ['-h', '--help', '--version', '--config', '-v', '--verbose']],
  ['fracta call no', ['notion', 'notebook']],
  ['fracta call ', ['notion', 'github', 'notebook']],
  ['fracta tools -v g', ['github']],
  ['fracta config mcp show no', ['notion', 'notebook']],
  ['fracta config mcp remove ', ['notion', 'github', 'notebook']],
  ['fracta config mcp auth login --timeout 5m n', ['notion', 'notebook']],
  ['fracta proxy gi', ['github']],
  [`fracta --config ${other} call n`, ['nova']],
  [`fracta call --config ${other} `, ['nova', 'zeta']],
  [`fracta call --config=${other} z`, ['zeta']],
  ['fracta call n', ['nova'], { FRACTA_CONFIG: other }],
  ['fracta call notion ', []],                       // the tool: not known without the server
  ['fracta call notion e', []],
  ['fracta config mcp auth export notion ', []],
  ['fracta config mcp add n', []],                  // a new name
  ['fracta call n', [], { FRACTA_CONFIG: broken }],
  ['fracta call n', [], { FRACTA_CONFIG: path.join(dir, 'missing.toml') }],
  ['fracta config mcp auth export notion --format ', ['env', 'files', 'k8s-secret']],
  ['fracta config mcp auth export notion --format f', ['files']],
  ['fracta config mcp auth export notion --format=k', ['k8s-secret']],
  ['fracta config mcp auth export notion --format=', ['env', 'files', 'k8s-secret']],
  ['fracta config mcp auth export notion --format env --', ['--help', '--format', '--out', '--stdout', '--force',
    '--namespace', '--config', '--verbose']],
  ['fracta completion ', ['bash', 'zsh', 'fish']],
  ['fracta completion z', ['zsh']],
  ['fracta completion zsh ', []],
  ['fracta call --request-timeout ', []],           // a value nobody can guess
  [`fracta --config ${files}/cfg-`, [`${files}/cfg-a.toml`, `${files}/cfg-b.toml`]],
  [`fracta config mcp auth export notion --format env --out ${files}/n`, [`${files}/notes.txt`]],
  [`fracta --config=${files}/no`, [`${files}/notes.txt`]],
];

describe('bash completion (a real bash, driven as readline drives it)', () => {
  for (const [line, want, env] of BASH) {
    test(`${line.replaceAll(dir, 'DIR')}⇥ → ${JSON.stringify(want)}${env ? ' ' + JSON.stringify(env).replaceAll(dir, 'DIR') : ''}`,
      async () => {
        const got = await bashComplete(line, env);
        // File names come in directory order (readline sorts what it shows).
        assert.deepEqual(line.includes(files) ? got.sort() : got, want);
      });
  }
});

describe('fracta __complete', () => {
  test('prints candidates with their descriptions, one a line', async () => {
    const r = await fracta(['__complete', 'config', 'mcp', 'v'], { env: { FRACTA_CONFIG: cfg } });
    assert.equal(r.code, 0, show(r));
    assert.equal(r.stdout, 'validate\tCheck the configuration and that every auth type has a provider\n');
    assert.equal(r.stderr, '');
  });

  test('asks the shell for file names after --config and --out', async () => {
    const r = await fracta(['__complete', '--config', '']);
    assert.equal(r.stdout, ':files\n', show(r));
  });

  for (const words of [[], ['--bogus', '--config'], ['call', '--timeout'], ['nonsense', 'words', ''], ['--', '-'],
    ['config', 'mcp', 'auth', 'export', '--format=nope', '--format=', '']]) {
    test(`never fails and never writes to stderr: ${JSON.stringify(words)}`, async () => {
      const r = await fracta(['__complete', ...words], { env: { FRACTA_CONFIG: broken } });
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stderr, '', show(r));
    });
  }

  test('is hidden: not in --help, not offered, not a mistake', async () => {
    const help = await fracta(['--help']);
    assert.equal(help.code, 0, show(help));
    assert.match(help.stdout, /completion/);
    assert.doesNotMatch(help.stdout, /__complete/);
    const top = await fracta(['__complete', '']);
    assert.deepEqual(top.stdout.split('\n').filter((l) => l).map((l) => l.split('\t')[0]), TOP);
  });
});

describe('fracta completion', () => {
  test('an unknown shell is a usage error naming the valid ones', async () => {
    const r = await fracta(['completion', 'tcsh']);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, "fracta: unknown shell 'tcsh' for 'fracta completion'. Shells: bash, zsh, fish "
      + '(`fracta completion --help`)\n');
  });

  test('a missing shell is a usage error', async () => {
    const r = await fracta(['completion']);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stderr.split('\n')[0], 'fracta: `fracta completion`: shell is required; see `fracta completion --help`');
  });

  test('--help says how to install each script, as docs/cli.md does', async () => {
    const r = await fracta(['completion', '--help']);
    assert.equal(r.code, 0, show(r));
    const install = docSection().match(/```sh\n([^]*?)```/)[1].split('\n').map((l) => l.replace(/#.*/, '').trim())
      .filter((l) => l);
    assert.deepEqual(install, ['source <(fracta completion bash)', 'fracta completion zsh > "${fpath[1]}/_fracta"',
      'fracta completion fish > ~/.config/fish/completions/fracta.fish']);
    for (const s of install) assert.ok(r.stdout.includes(s), r.stdout);
  });

  test("docs/cli.md's example of an unknown shell is what fracta prints", async () => {
    const [cmd, line] = docSection().match(/```\n\$ ([^\n]*)\n([^\n]*)\n```/).slice(1);
    const r = await fracta(cmd.split(' ').slice(1));
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stderr, `${line}\n`);
  });
});

// zsh and fish come from scripts/install-deps.sh: missing, they fail the test rather than skip it.
function need(program) {
  assert.equal(spawnSync(program, ['--version'], { stdio: 'ignore' }).status, 0,
    `${program} is not installed: run scripts/install-deps.sh`);
}

describe('zsh completion', () => {
  test('the script parses and registers _fracta with compinit', async () => {
    need('zsh');
    const file = path.join(dir, '_fracta');
    fs.writeFileSync(file, await shell(fractaBin(), ['completion', 'zsh']));
    assert.equal(await shell('zsh', ['-n', file]), '');
    const out = await shell('zsh', ['-f', '-c',
      `autoload -U compinit && compinit -u -D && source ${shellQuote(file)} && print -r -- $_comps[fracta]`]);
    assert.equal(out, '_fracta\n');
  });

  // An interactive zsh on a pseudo-terminal, each line typed with a Tab (lib/zsh-complete.zsh).
  test('completes in an interactive zsh (zpty)', async () => {
    need('zsh');
    const script = path.join(dir, '_fracta_zpty');
    fs.writeFileSync(script, await shell(fractaBin(), ['completion', 'zsh']));
    const cases = [
      ['fracta con', 'fracta config '],
      ['fracta config mcp au', 'fracta config mcp auth '],
      ['fracta call gi', 'fracta call github '],
      [`fracta --config ${other} call z`, `fracta --config ${other} call zeta `],
      ['fracta call --req', 'fracta call --request-timeout '],
      ['fracta config mcp auth export notion --format k', 'fracta config mcp auth export notion --format k8s-secret '],
      ['fracta config mcp auth export notion --format=f', 'fracta config mcp auth export notion --format=files '],
      [`fracta --config ${files}/no`, `fracta --config ${files}/notes.txt `],
    ];
    const out = await shell('zsh', ['-f', ZSH_DRIVER, script, ...cases.map(([line]) => line)]);
    assert.deepEqual(out.split('\n').slice(0, -1), cases.map(([, want]) => want));
  });
});

describe('fish completion', () => {
  const file = path.join(dir, 'fracta.fish');
  const fishComplete = async (line, env) => {
    if (!fs.existsSync(file)) fs.writeFileSync(file, await shell(fractaBin(), ['completion', 'fish']));
    const out = await shell('fish', ['--no-config', '-c', `source ${shellQuote(file)}; complete -C ${shellQuote(line)}`], env);
    return out.split('\n').filter((l) => l !== '');
  };

  test('the script parses', async () => {
    need('fish');
    fs.writeFileSync(file, await shell(fractaBin(), ['completion', 'fish']));
    assert.equal(await shell('fish', ['--no-execute', file]), '');
  });

  test('complete -C: commands with their descriptions, server names, --format values, file names', async () => {
    assert.deepEqual(await fishComplete('fracta con'), ['config\tEdit and check the configuration']);
    assert.deepEqual(await fishComplete('fracta call no'), ['notebook', 'notion']);
    assert.deepEqual(await fishComplete(`fracta --config ${other} tools `), ['nova', 'zeta']);
    assert.deepEqual(await fishComplete('fracta config mcp auth export notion --format '), ['env', 'files', 'k8s-secret']);
    assert.deepEqual(await fishComplete('fracta call notion '), []);
    assert.deepEqual(await fishComplete(`fracta --config ${files}/no`), [`${files}/notes.txt`]);
    assert.deepEqual(await fishComplete(`fracta --config=${files}/no`), [`--config=${files}/notes.txt`]);
  });
});
