package e2e_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
)

// The gateway's root credentials, and the bucket every test publishes to.
const (
	gwAccess = "stampfs-e2e"
	gwSecret = "stampfs-e2e-secret"
	gwBucket = "site"
)

// publishBin builds stampfs-publish of this checkout once per test binary
// and returns the directory it is in, to put in PATH for "stampfs publish".
func publishBin(t *testing.T) string {
	t.Helper()
	return filepath.Dir(publishBuild.get(t, "github.com/stampfs/stampfs/publish/cmd/stampfs-publish", "stampfs-publish"))
}

// versitygw returns the path of the Versity S3 gateway: in PATH or in
// $(go env GOPATH)/bin, where .ci/run installs it. Without it the test
// fails on CI and is skipped elsewhere.
func versitygw(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "versitygw not found in PATH or $(go env GOPATH)/bin: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI=true must run this test")
	}
	t.Skip(msg + " to run this test")
	return ""
}

// gateway is a Versity S3 gateway on 127.0.0.1 with a POSIX backend in a
// temporary directory, holding one empty bucket, gwBucket.
type gateway struct {
	url    string // http://127.0.0.1:PORT
	client *s3.Client
}

func startGateway(t *testing.T) *gateway {
	t.Helper()
	bin := versitygw(t)
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, gwBucket), 0o755))
	addr := freeAddr(t)
	cmd := exec.Command(bin, "--access", gwAccess, "--secret", gwSecret, "--port", addr, "--quiet", "posix", root)
	gw := &gateway{url: startServer(t, cmd, addr, syscall.SIGTERM)}
	gw.client = s3client(gw.url)
	return gw
}

func s3client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(gwAccess, gwSecret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// env is the environment of a publish to the gateway: its credentials, and
// PATH with stampfs-publish first.
func (gw *gateway) env(t *testing.T) []string {
	t.Helper()
	env := []string{
		"AWS_ACCESS_KEY_ID=" + gwAccess,
		"AWS_SECRET_ACCESS_KEY=" + gwSecret,
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"PATH=" + publishBin(t) + string(os.PathListSeparator) + os.Getenv("PATH"),
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	return env
}

// publishCmd returns "stampfs publish -endpoint URL ARGS…" to the gateway
// (or the endpoint given), through the root command's dispatch.
func (gw *gateway) publishCmd(t *testing.T, endpoint string, args ...string) *exec.Cmd {
	t.Helper()
	if endpoint == "" {
		endpoint = gw.url
	}
	cmd := exec.Command(stampfsBin(t), append([]string{"publish", "-endpoint", endpoint}, args...)...)
	cmd.Env = gw.env(t)
	return cmd
}

// result is how a publish ended.
type result struct {
	status         int
	stdout, stderr string
}

func run(t *testing.T, cmd *exec.Cmd) result {
	t.Helper()
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String()}
	if err != nil {
		exit, ok := err.(*exec.ExitError)
		require.True(t, ok, "run %v: %v", cmd.Args, err)
		r.status = exit.ExitCode()
	}
	return r
}

// publishOK publishes and requires success; it returns the stamp.
func (gw *gateway) publishOK(t *testing.T, endpoint string, args ...string) (stamp, summary string) {
	t.Helper()
	r := run(t, gw.publishCmd(t, endpoint, args...))
	require.Equal(t, 0, r.status, "stampfs publish %v:\n%s", args, r.stderr)
	return strings.TrimSpace(r.stdout), r.last()
}

// last is the last line of stderr, without its newline: the summary, or
// the error. The lines before it are the log.
func (r result) last() string {
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	return lines[len(lines)-1]
}

// keys lists the bucket's keys under prefix, sorted.
func (gw *gateway) keys(t *testing.T, prefix string) []string {
	t.Helper()
	var keys []string
	p := s3.NewListObjectsV2Paginator(gw.client, &s3.ListObjectsV2Input{Bucket: aws.String(gwBucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		for _, o := range page.Contents {
			keys = append(keys, *o.Key)
		}
	}
	sort.Strings(keys)
	return keys
}

// object is what a client reads back of one key.
type object struct {
	body                                []byte
	contentType, encoding, cacheControl string
	sha256                              string // metadata
}

func (gw *gateway) get(t *testing.T, key string) object {
	t.Helper()
	out, err := gw.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(gwBucket), Key: aws.String(key)})
	require.NoError(t, err, "get %s", key)
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	require.NoError(t, err)
	return object{body, aws.ToString(out.ContentType), aws.ToString(out.ContentEncoding), aws.ToString(out.CacheControl), out.Metadata["sha256"]}
}

func (gw *gateway) put(t *testing.T, key, body string) {
	t.Helper()
	_, err := gw.client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(gwBucket), Key: aws.String(key), Body: strings.NewReader(body)})
	require.NoError(t, err)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// recorder is a reverse proxy in front of the gateway that records every
// request ("PUT /site/static/x", "COPY …" for a server-side copy) and the
// object bytes sent, and may fail requests.
type recorder struct {
	url string
	mu  sync.Mutex
	log []string
	// sent counts the body bytes of PUTs that are not copies.
	sent int64
	// fail, when set, answers a request instead of the gateway when it
	// returns a status other than 0.
	fail func(method, key string) int
	// seen, when set, is called after each request is recorded.
	seen func(n int)
	// inflight counts the requests not yet answered.
	inflight atomic.Int64
}

// settle waits until no request is in flight (the gateway has finished what
// a killed client started), for 10 s at most.
func (r *recorder) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.inflight.Load() != 0 {
		require.True(t, time.Now().Before(deadline), "requests still in flight after 10 s")
		time.Sleep(10 * time.Millisecond)
	}
}

func (gw *gateway) recorder(t *testing.T) *recorder {
	t.Helper()
	target, err := url.Parse(gw.url)
	require.NoError(t, err)
	rec := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.inflight.Add(1)
		defer rec.inflight.Add(-1)
		key := strings.TrimPrefix(r.URL.Path, "/"+gwBucket+"/")
		method := r.Method
		if r.Header.Get("X-Amz-Copy-Source") != "" {
			method = "COPY"
		}
		rec.mu.Lock()
		rec.log = append(rec.log, method+" "+key)
		if method == http.MethodPut {
			rec.sent += r.ContentLength
		}
		n := len(rec.log)
		fail, seen := rec.fail, rec.seen
		rec.mu.Unlock()
		if seen != nil {
			seen(n)
		}
		if fail != nil {
			if status := fail(method, key); status != 0 {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(status)
				fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected</Message></Error>`)
				return
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.url = srv.URL
	return rec
}

// requests returns the requests recorded so far and forgets them.
func (r *recorder) requests() (log []string, sent int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	log, sent = r.log, r.sent
	r.log, r.sent = nil, 0
	return log, sent
}

func headInput(key string) *s3.HeadObjectInput {
	return &s3.HeadObjectInput{Bucket: aws.String(gwBucket), Key: aws.String(key)}
}
