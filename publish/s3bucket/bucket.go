// Package s3bucket is the publish.Bucket of AWS S3 and S3-compatible stores
// (Cloudflare R2, Backblaze B2, Ceph, MinIO and other gateways), on the AWS
// SDK for Go v2.
package s3bucket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/stampfs/stampfs/publish"
)

// Config says which bucket to open and how.
type Config struct {
	// Bucket is the bucket's name.
	Bucket string
	// Endpoint is the URL of a non-AWS service, such as
	// "https://<account>.r2.cloudflarestorage.com" or
	// "http://127.0.0.1:7070". With it, requests use path-style addressing
	// and send checksums only where the operation requires them, which
	// S3-compatible services accept. Empty means AWS, per region.
	Endpoint string
	// Region overrides the one of the AWS environment and files. With an
	// Endpoint and no region anywhere, "us-east-1".
	Region string
	// Conns bounds the HTTP connections to the service. Default 16.
	Conns int
	// Attempts is how many times a request is tried, with exponential
	// backoff between tries. Default 5.
	Attempts int
	// MaxBackoff caps the wait between tries. Default 5 s.
	MaxBackoff time.Duration
	// Timeout bounds connecting and waiting for a response's headers.
	// Default 30 s.
	Timeout time.Duration
}

// Bucket is an S3 bucket. Make it with Open.
type Bucket struct {
	client   *s3.Client
	name     string
	endpoint string // for errors: the URL, or "S3"
	attempts int
}

var _ publish.Bucket = (*Bucket)(nil)

// ParseURL splits "s3://BUCKET/PREFIX" into the bucket and the prefix
// without slashes at either end. It returns an error wrapping fs.ErrInvalid
// for any other form.
func ParseURL(s string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.TrimSuffix(prefix, "/")
	if !ok || bucket == "" || (prefix != "" && !fs.ValidPath(prefix)) {
		return "", "", fmt.Errorf("%q: want s3://BUCKET or s3://BUCKET/PREFIX with a clean PREFIX: %w", s, fs.ErrInvalid)
	}
	return bucket, prefix, nil
}

// Open returns the bucket cfg names, with credentials and region from the
// standard AWS environment variables and shared files (AWS_PROFILE,
// AWS_ACCESS_KEY_ID, ~/.aws/credentials, SSO, instance roles, …), as every
// AWS tool reads them. It sends no request.
func Open(ctx context.Context, cfg Config) (*Bucket, error) {
	conns := cfg.Conns
	if conns <= 0 {
		conns = 16
	}
	attempts := cfg.Attempts
	if attempts <= 0 {
		attempts = 5
	}
	maxBackoff := cfg.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = 5 * time.Second
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	hc := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = timeout }).
		WithTransportOptions(func(t *http.Transport) {
			t.MaxConnsPerHost = conns
			t.MaxIdleConnsPerHost = conns
			t.ResponseHeaderTimeout = timeout
			t.TLSHandshakeTimeout = timeout
		})
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(hc),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = maxBackoff
				o.RateLimiter = ratelimit.None // retry every request, however many fail
			})
		}),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if ac.Region == "" {
		if cfg.Endpoint == "" {
			return nil, errors.New("no AWS region: set -region, AWS_REGION or a region in ~/.aws/config")
		}
		ac.Region = "us-east-1"
	}
	client := s3.NewFromConfig(ac, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			o.UsePathStyle = true
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	endpoint := cfg.Endpoint
	if endpoint == "" {
		endpoint = "S3 in " + ac.Region
	}
	return &Bucket{client: client, name: cfg.Bucket, endpoint: endpoint, attempts: attempts}, nil
}

// User metadata keys: x-amz-meta-sha256 holds an object's SHA-256,
// x-amz-meta-written a manifest's ObjectMeta.Written.
const (
	metaSHA256  = "sha256"
	metaWritten = "written"
)

func metadata(meta publish.ObjectMeta) map[string]string {
	md := map[string]string{metaSHA256: meta.SHA256}
	if !meta.Written.IsZero() {
		md[metaWritten] = meta.Written.UTC().Format(time.RFC3339Nano)
	}
	return md
}

func written(md map[string]string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, md[metaWritten])
	return t
}

// List implements publish.Bucket with ListObjectsV2.
func (b *Bucket) List(ctx context.Context, prefix, delimiter string) ([]publish.ObjectInfo, error) {
	in := &s3.ListObjectsV2Input{Bucket: &b.name, Prefix: &prefix}
	if delimiter != "" {
		in.Delimiter = &delimiter
	}
	var list []publish.ObjectInfo
	for p := s3.NewListObjectsV2Paginator(b.client, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, b.fail(err)
		}
		for _, o := range page.Contents {
			list = append(list, publish.ObjectInfo{
				Key:          aws.ToString(o.Key),
				Size:         aws.ToInt64(o.Size),
				LastModified: aws.ToTime(o.LastModified),
			})
		}
	}
	return list, nil
}

// Head implements publish.Bucket with HeadObject.
func (b *Bucket) Head(ctx context.Context, key string) (publish.ObjectInfo, error) {
	out, err := b.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.name, Key: &key})
	if err != nil {
		return publish.ObjectInfo{}, b.fail(err)
	}
	return publish.ObjectInfo{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		LastModified: aws.ToTime(out.LastModified),
		SHA256:       out.Metadata[metaSHA256],
		Written:      written(out.Metadata),
	}, nil
}

// Get implements publish.Bucket with GetObject.
func (b *Bucket) Get(ctx context.Context, key string) ([]byte, publish.ObjectInfo, error) {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.name, Key: &key})
	if err != nil {
		return nil, publish.ObjectInfo{}, b.fail(err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, publish.ObjectInfo{}, err
	}
	return data, publish.ObjectInfo{
		Key:          key,
		Size:         int64(len(data)),
		LastModified: aws.ToTime(out.LastModified),
		SHA256:       out.Metadata[metaSHA256],
		Written:      written(out.Metadata),
	}, nil
}

// Put implements publish.Bucket with PutObject.
func (b *Bucket) Put(ctx context.Context, key string, body io.ReadSeeker, size int64, meta publish.ObjectMeta) error {
	_, err := b.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:          &b.name,
		Key:             &key,
		Body:            body,
		ContentLength:   &size,
		ContentType:     optional(meta.ContentType),
		ContentEncoding: optional(meta.ContentEncoding),
		CacheControl:    optional(meta.CacheControl),
		Metadata:        metadata(meta),
	})
	return b.fail(err)
}

// Copy implements publish.Bucket with CopyObject, replacing the metadata.
func (b *Bucket) Copy(ctx context.Context, src, dst string, meta publish.ObjectMeta) error {
	_, err := b.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:            &b.name,
		Key:               &dst,
		CopySource:        aws.String(copySource(b.name, src)),
		MetadataDirective: types.MetadataDirectiveReplace,
		ContentType:       optional(meta.ContentType),
		ContentEncoding:   optional(meta.ContentEncoding),
		CacheControl:      optional(meta.CacheControl),
		Metadata:          metadata(meta),
	})
	return b.fail(err)
}

// Delete implements publish.Bucket with DeleteObjects, 1,000 keys a request,
// or DeleteObject per key on a service that lacks the former.
func (b *Bucket) Delete(ctx context.Context, keys ...string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		batch := keys[:n]
		keys = keys[n:]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i := range batch {
			ids[i] = types.ObjectIdentifier{Key: &batch[i]}
		}
		out, err := b.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &b.name,
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if code := errorCode(err); code == "NotImplemented" || code == "MissingContentMD5" {
			for _, k := range batch {
				if _, err := b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.name, Key: &k}); err != nil {
					return fmt.Errorf("%s: %w", k, b.fail(err))
				}
			}
			continue
		}
		if err != nil {
			return b.fail(err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("%s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}

// copySource is the x-amz-copy-source of key: "bucket/key", each segment
// URL-escaped ("+" too, which some services read as a space).
func copySource(bucket, key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
	}
	return url.PathEscape(bucket) + "/" + strings.Join(segs, "/")
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// fail turns the SDK's errors into ones a user can act on: a missing key
// wraps fs.ErrNotExist, a missing bucket names it, refused credentials wrap
// fs.ErrPermission.
func (b *Bucket) fail(err error) error {
	if err == nil {
		return nil
	}
	var re *awshttp.ResponseError
	status := 0
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	switch code := errorCode(err); {
	case code == "NoSuchBucket":
		return fmt.Errorf("bucket %q does not exist: %w", b.name, fs.ErrNotExist)
	case code == "NoSuchKey" || code == "NotFound" || status == http.StatusNotFound:
		return fmt.Errorf("%w (%s)", fs.ErrNotExist, code)
	case code == "InvalidAccessKeyId" || code == "SignatureDoesNotMatch" || code == "InvalidToken" || code == "ExpiredToken":
		return fmt.Errorf("credentials refused (%s): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_PROFILE: %w", code, fs.ErrPermission)
	case code == "AccessDenied" || status == http.StatusForbidden:
		return fmt.Errorf("access denied to bucket %q: %w", b.name, fs.ErrPermission)
	}
	var ne net.Error
	if errors.As(err, &ne) && status == 0 {
		// The service was not reached, or did not answer, on any try.
		return fmt.Errorf("%s unreachable after %d tries: %w", b.endpoint, b.attempts, ne)
	}
	return err
}
