/**
 * Readers for the shared Noise vectors, in the two formats SOURCE.md describes, normalised
 * into one shape so one replay covers every source.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { NOISE_VECTORS_DIR } from './paths';

export interface NoiseVector {
  source: string;
  protocolName: string;
  prologue: string;
  initStatic?: string;
  initEphemeral: string;
  respStatic?: string;
  respEphemeral: string;
  handshakeHash?: string;
  messages: { payload: string; ciphertext: string }[];
  /** Who sends the first transport message: JSON files keep alternating, flynn restarts with the initiator. */
  transportStartsWithInitiator: boolean;
}

interface JsonVector {
  protocol_name?: string;
  name?: string;
  init_prologue: string;
  init_static?: string;
  init_ephemeral: string;
  resp_static?: string;
  resp_ephemeral: string;
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
}

function readJsonVectors(file: string): NoiseVector[] {
  const parsed = JSON.parse(fs.readFileSync(path.join(NOISE_VECTORS_DIR, file), 'utf8')) as {
    vectors: JsonVector[];
  };
  return parsed.vectors.map((vector, index) => ({
    source: `${file}[${index}]`,
    protocolName: vector.protocol_name ?? vector.name ?? '',
    prologue: vector.init_prologue,
    initStatic: vector.init_static,
    initEphemeral: vector.init_ephemeral,
    respStatic: vector.resp_static,
    respEphemeral: vector.resp_ephemeral,
    handshakeHash: vector.handshake_hash,
    messages: vector.messages,
    transportStartsWithInitiator: false,
  }));
}

function readFlynnVectors(file: string): NoiseVector[] {
  const text = fs.readFileSync(path.join(NOISE_VECTORS_DIR, file), 'utf8');
  const blocks = text.split(/\n\s*\n/).filter((block) => block.includes('handshake='));
  return blocks.map((block, index) => {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const match = /^([a-z0-9_]+)=(.*)$/.exec(line.trim());
      if (match) fields.set(match[1] as string, match[2] as string);
    }
    const messages: { payload: string; ciphertext: string }[] = [];
    for (let i = 0; fields.has(`msg_${i}_ciphertext`); i++) {
      messages.push({
        payload: fields.get(`msg_${i}_payload`) ?? '',
        ciphertext: fields.get(`msg_${i}_ciphertext`) ?? '',
      });
    }
    return {
      source: `${file}#${index}`,
      protocolName: fields.get('handshake') ?? '',
      prologue: fields.get('prologue') ?? '',
      initStatic: fields.get('init_static'),
      initEphemeral: fields.get('gen_init_ephemeral') ?? '',
      respStatic: fields.get('resp_static'),
      respEphemeral: fields.get('gen_resp_ephemeral') ?? '',
      messages,
      transportStartsWithInitiator: true,
    };
  });
}

/** Every vector of the given protocol name, from every shared source file. */
export function loadNoiseVectors(protocolName: string): NoiseVector[] {
  return [
    ...readJsonVectors('noise_vectors.json'),
    ...readJsonVectors('noise_vectors_noise-c.json'),
    ...readFlynnVectors('flynn_vectors.txt'),
  ].filter((vector) => vector.protocolName === protocolName);
}
