// The code of an S3 error, apart from the SDK: the offsite target reads it
// without loading @aws-sdk/client-s3 until an S3 target is used.

/** The S3 error's code (NoSuchKey, NoSuchBucketPolicy, NotImplemented...), or its HTTP status. */
export function s3ErrorCode(error: unknown): string {
  const e = error as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e.Code ?? e.name ?? String(e.$metadata?.httpStatusCode ?? 'unknown');
}
