// POD documents in the real MinIO: stored under the claim, with their content type and a
// checksum S3 verified, the same bytes again on a redelivery.
import { createHash } from 'node:crypto';
import { DeleteBucketCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '@tickflow/runtime';
import { podDocument, stack, uniqueName } from '@tickflow/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { PodStore } from '../src/adapters/pod-store.ts';

const s3 = createS3Client(stack.s3);
const bucket = uniqueName('pods').toLowerCase().slice(0, 60);
const store = new PodStore(s3, bucket);
const keys: string[] = [];
afterAll(async () => {
  for (const key of keys) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
});

describe('the POD store', () => {
  it('keeps each claim’s document with its content type and SHA-256, in a bucket it makes if missing', async () => {
    const pdf = podDocument('chronopost', 'XY123456789FR');
    const stored = await store.put({ claimId: 'CLM-2024-001', carrier: 'chronopost' }, { content: pdf, contentType: 'application/pdf' });
    keys.push('pods/chronopost/CLM-2024-001.pdf');
    expect(stored).toEqual({
      location: `s3://${bucket}/pods/chronopost/CLM-2024-001.pdf`,
      contentType: 'application/pdf',
      sha256: createHash('sha256').update(pdf).digest('hex'),
      bytes: pdf.length,
    });
    const object = await s3.send(
      new GetObjectCommand({ Bucket: bucket, Key: 'pods/chronopost/CLM-2024-001.pdf', ChecksumMode: 'ENABLED' }),
    );
    expect(Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())).toEqual(pdf);
    expect(object.ContentType).toBe('application/pdf');
    expect(object.Metadata).toEqual({ 'claim-id': 'CLM-2024-001', carrier: 'chronopost' });

    // Evidence from La Poste is JSON; a redelivery writes the same object again.
    const evidence = { content: Buffer.from('{"idShip":"6A12345678901"}'), contentType: 'application/json; charset=utf-8' };
    const first = await store.put({ claimId: 'CLM/7', carrier: 'colissimo' }, evidence);
    const again = await store.put({ claimId: 'CLM/7', carrier: 'colissimo' }, evidence);
    keys.push('pods/colissimo/CLM%2F7.json');
    expect(again).toEqual(first);
    expect(first.location).toBe(`s3://${bucket}/pods/colissimo/CLM%2F7.json`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'pods/colissimo/CLM%2F7.json' }));
    expect(head.ContentType).toBe('application/json');
  });
});
