package dashboard

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/stepmon/stepmon/internal/httpgzip"
)

//go:embed static
var static embed.FS

// contentSecurityPolicy allows the page to load only its own files and to
// talk only to its own origin. The page writes text, never HTML, so it
// requires Trusted Types with no policy: an HTML sink such as innerHTML
// throws rather than inject markup from the data it shows.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// file is one embedded file, read once.
type file struct {
	name        string
	data        []byte
	gzipped     []byte // nil when compression does not pay
	etag        string
	contentType string
}

// Handler returns the dashboard's handler. It serves the page at "/" and
// its files at "/{name}", so mount it with the mount point stripped:
//
//	mux.Handle("/ui/", http.StripPrefix("/ui", dashboard.Handler()))
//
// A request whose path still carries a "/ui" prefix is served the same
// way, so mounting it without StripPrefix works too. Unknown files are
// 404; methods other than GET and HEAD are 405. Responses carry an ETag
// and are revalidated on every load, so a new binary's page shows at once.
func Handler() http.Handler {
	files, err := loadOnce()
	if err != nil {
		// The files are embedded at build time; failing here is a build defect.
		panic(fmt.Sprintf("dashboard: load embedded files: %v", err))
	}
	return &handler{files: files}
}

// loadOnce loads the files on first use; every handler shares them.
var loadOnce = sync.OnceValues(load)

// load reads every embedded file into memory and compresses it.
func load() (map[string]*file, error) {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, fmt.Errorf("dashboard: sub static: %w", err)
	}
	files := map[string]*file{}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, name)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		sum := sha256.Sum256(data)
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = http.DetectContentType(data)
		}
		f := &file{
			name:        name,
			data:        data,
			etag:        `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`,
			contentType: ct,
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if _, err := zw.Write(data); err != nil {
			return fmt.Errorf("gzip %s: %w", name, err)
		}
		if err := zw.Close(); err != nil {
			return fmt.Errorf("gzip %s: %w", name, err)
		}
		if buf.Len() < len(data)*9/10 {
			f.gzipped = buf.Bytes()
		}
		files[name] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dashboard: walk static: %w", err)
	}
	return files, nil
}

type handler struct {
	files map[string]*file
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if p == "/ui" {
		// Mounted unstripped: the page's relative URLs need the slash.
		http.Redirect(w, r, "/ui/", http.StatusMovedPermanently)
		return
	}
	if rest, ok := strings.CutPrefix(p, "/ui/"); ok {
		p = rest
	}
	name := strings.TrimPrefix(p, "/")
	if name == "" {
		name = "index.html"
	}
	f, ok := h.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", f.contentType)
	hdr.Set("ETag", f.etag)
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cross-Origin-Resource-Policy", "same-origin")
	if name == "index.html" {
		hdr.Set("Content-Security-Policy", contentSecurityPolicy)
		hdr.Set("X-Frame-Options", "DENY")
		hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	}
	body := f.data
	if f.gzipped != nil {
		hdr.Add("Vary", "Accept-Encoding")
		if httpgzip.AcceptsGzip(r) {
			body = f.gzipped
			hdr.Set("Content-Encoding", "gzip")
			hdr.Set("ETag", f.etag[:len(f.etag)-1]+`-gz"`)
			r.Header.Del("Range") // ranges of the compressed bytes would confuse clients
		}
	}
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
}
