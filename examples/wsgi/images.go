package main

import (
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/greenhub/greenhub/hub"
)

// The statuses of an image, Glance's.
const (
	statusQueued = "queued" // created, no data yet
	statusSaving = "saving" // its data is being uploaded
	statusActive = "active" // its data is stored
)

const (
	// transferBuffer bounds each read and write of image data: one buffer
	// per transfer in flight.
	transferBuffer = 64 << 10
	// maxMetadata bounds a create request's JSON body.
	maxMetadata = 64 << 10
	// maxName is Glance's limit on an image's name.
	maxName = 255
)

// image is one record.
type image struct {
	ID        string  `json:"id"`
	Name      string  `json:"name"`
	Size      *int64  `json:"size"`     // null until uploaded
	Checksum  *string `json:"checksum"` // hex SHA-256 of the data; null until uploaded
	Status    string  `json:"status"`
	CreatedAt string  `json:"created_at"`

	seq  uint64 // creation order, for listing
	path string // the data's file, once active
	gone bool   // deleted, perhaps while its upload was in flight
}

// registry is the image service: the records in memory, the data in files
// under dir.
//
// Its state is touched only on the hub's thread — by the handlers, which
// greenhttp runs there, one at a time, and by run once the hub has ended —
// so it needs no locks. A handler may park, though (reading the request,
// writing the response, waiting in Offload), and other handlers run
// meanwhile: each decides what it needs before it parks (an upload sets
// the status "saving" before its first read, so a second upload gets 409)
// and checks again after (an upload whose image was deleted meanwhile
// throws its data away).
type registry struct {
	h        *hub.Hub
	dir      string
	maxImage int64
	log      *slog.Logger

	images  map[string]*image
	seq     uint64
	partial map[string]string // uploads in flight (.part file → final file), to remove if the hub ends under them
}

func newRegistry(h *hub.Hub, dir string, maxImage int64, logger *slog.Logger) *registry {
	return &registry{
		h: h, dir: dir, maxImage: maxImage, log: logger,
		images:  make(map[string]*image),
		partial: make(map[string]string),
	}
}

// routes is the API.
func (reg *registry) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/images", reg.list)
	mux.HandleFunc("POST /v2/images", reg.create)
	mux.HandleFunc("GET /v2/images/{id}", reg.show)
	mux.HandleFunc("DELETE /v2/images/{id}", reg.remove)
	mux.HandleFunc("PUT /v2/images/{id}/file", reg.upload)
	mux.HandleFunc("GET /v2/images/{id}/file", reg.download)
	return mux
}

// list answers GET /v2/images: every record, oldest first.
func (reg *registry) list(w http.ResponseWriter, _ *http.Request) {
	images := make([]*image, 0, len(reg.images))
	for _, img := range reg.images {
		images = append(images, img)
	}
	slices.SortFunc(images, func(a, b *image) int { return cmp.Compare(a.seq, b.seq) })
	writeJSON(w, http.StatusOK, map[string][]*image{"images": images})
}

// create answers POST /v2/images {"name": "..."}: a new record, queued.
func (reg *registry) create(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Name *string `json:"name"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxMetadata))
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "the body must be a JSON object: "+err.Error())
		return
	}
	switch {
	case body.Name == nil:
		writeError(w, http.StatusBadRequest, `"name" is required`)
		return
	case len(*body.Name) > maxName:
		writeError(w, http.StatusBadRequest, fmt.Sprintf(`"name" is longer than %d bytes`, maxName))
		return
	}
	reg.seq++
	img := &image{
		ID:        newID(),
		Name:      *body.Name,
		Status:    statusQueued,
		CreatedAt: time.Now().UTC().Format(time.RFC3339),
		seq:       reg.seq,
	}
	reg.images[img.ID] = img
	w.Header().Set("Location", "/v2/images/"+img.ID)
	writeJSON(w, http.StatusCreated, img)
}

// show answers GET /v2/images/{id}.
func (reg *registry) show(w http.ResponseWriter, r *http.Request) {
	if img := reg.lookup(w, r); img != nil {
		writeJSON(w, http.StatusOK, img)
	}
}

// remove answers DELETE /v2/images/{id}: the record goes at once; the file
// of an active image is removed before the answer, the one of an upload in
// flight by the upload.
func (reg *registry) remove(w http.ResponseWriter, r *http.Request) {
	img := reg.lookup(w, r)
	if img == nil {
		return
	}
	delete(reg.images, img.ID)
	img.gone = true
	if img.Status == statusActive {
		var err error
		if oerr := reg.h.Offload(func() { err = removeFile(img.path) }); oerr != nil {
			err = oerr
		}
		if err != nil {
			reg.log.Error("wsgi: removing an image's data", "id", img.ID, "err", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// upload answers PUT /v2/images/{id}/file: it streams the body to a file,
// computing the size and the SHA-256 as it goes. The file is written as
// <id>.part and renamed <id> once synced; any failure removes it and
// leaves the image queued, to be uploaded again.
func (reg *registry) upload(w http.ResponseWriter, r *http.Request) {
	img := reg.lookup(w, r)
	if img == nil {
		return
	}
	if img.Status != statusQueued {
		writeError(w, http.StatusConflict, fmt.Sprintf("image %s is %s: its data can be uploaded once", img.ID, img.Status))
		return
	}
	if r.ContentLength > reg.maxImage {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the image is larger than %d bytes", reg.maxImage))
		return
	}
	img.Status = statusSaving // from here on, before any park: a second upload gets 409

	final := filepath.Join(reg.dir, img.ID)
	part := final + ".part"
	var f *os.File
	done := false
	defer func() {
		if done {
			return
		}
		// Failed, or unwinding a kill: the data goes, the image may be
		// uploaded again.
		if img.Status == statusSaving {
			img.Status = statusQueued
		}
		var err error
		if oerr := reg.h.Offload(func() {
			if f != nil {
				f.Close()
			}
			err = errors.Join(removeFile(part), removeFile(final)) // final: a kill may come after the rename
		}); oerr == nil && err == nil {
			delete(reg.partial, part)
		} // else left in reg.partial, for run to remove
	}()

	var err error
	reg.partial[part] = final
	if oerr := reg.h.Offload(func() { f, err = os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644) }); oerr != nil || err != nil {
		reg.internalError(w, img, "creating the file", errors.Join(oerr, err))
		return
	}
	sum := sha256.New()
	buf := make([]byte, transferBuffer)
	var size int64
	for {
		// Reading parks this green thread on the socket, not the OS
		// thread; writing and hashing happen on an offload goroutine.
		n, rerr := fill(r.Body, buf)
		if size += int64(n); size > reg.maxImage {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the image is larger than %d bytes", reg.maxImage))
			return
		}
		if img.gone {
			writeError(w, http.StatusGone, fmt.Sprintf("image %s was deleted during the upload", img.ID))
			return
		}
		if n > 0 {
			chunk := buf[:n]
			if oerr := reg.h.Offload(func() {
				if _, err = f.Write(chunk); err == nil {
					sum.Write(chunk)
				}
			}); oerr != nil || err != nil {
				reg.internalError(w, img, "writing the file", errors.Join(oerr, err))
				return
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			bodyError(w, rerr)
			return
		}
	}
	oerr := reg.h.Offload(func() {
		err = errors.Join(f.Sync(), f.Close())
		if err == nil {
			err = os.Rename(part, final)
		}
	})
	f = nil // closed, whatever happened
	if oerr != nil || err != nil {
		reg.internalError(w, img, "storing the file", errors.Join(oerr, err))
		return
	}
	done = true
	delete(reg.partial, part)
	if img.gone {
		// Deleted while the file was being stored.
		reg.h.Offload(func() { removeFile(final) })
		writeError(w, http.StatusGone, fmt.Sprintf("image %s was deleted during the upload", img.ID))
		return
	}
	checksum := hex.EncodeToString(sum.Sum(nil))
	img.Size, img.Checksum, img.path, img.Status = &size, &checksum, final, statusActive
	writeJSON(w, http.StatusOK, img)
}

// download answers GET (and HEAD) /v2/images/{id}/file, streaming the
// file in bounded reads; 204 if the image has no data yet, as Glance.
func (reg *registry) download(w http.ResponseWriter, r *http.Request) {
	img := reg.lookup(w, r)
	if img == nil {
		return
	}
	if img.Status != statusActive {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	path, size := img.path, *img.Size
	if r.Method == http.MethodHead {
		setDataHeaders(w, img)
		return
	}
	var f *os.File
	var err error
	if oerr := reg.h.Offload(func() { f, err = os.Open(path) }); oerr != nil || err != nil {
		if errors.Is(err, os.ErrNotExist) {
			writeError(w, http.StatusNotFound, "no image "+img.ID) // deleted meanwhile
			return
		}
		reg.internalError(w, img, "opening the file", errors.Join(oerr, err))
		return
	}
	defer reg.h.Offload(func() { f.Close() })
	setDataHeaders(w, img)
	buf := make([]byte, transferBuffer)
	for sent := int64(0); sent < size; {
		var n int
		oerr := reg.h.Offload(func() { n, err = f.Read(buf[:min(int64(len(buf)), size-sent)]) })
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return // the client went away
			}
			sent += int64(n)
		}
		if oerr != nil || (err != nil && sent < size) {
			// The Content-Length was promised: all the client can be told
			// is that the body is cut short.
			reg.log.Error("wsgi: reading an image's data", "id", img.ID, "sent", sent, "size", size, "err", errors.Join(oerr, err))
			panic(http.ErrAbortHandler)
		}
	}
}

// removeFile removes a file that may not exist.
func removeFile(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// fill reads into buf until it is full or r fails; io.EOF means the body
// ended (a truncated body fails with io.ErrUnexpectedEOF instead).
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func setDataHeaders(w http.ResponseWriter, img *image) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(*img.Size, 10))
}

// lookup returns the image the path names, or answers 404.
func (reg *registry) lookup(w http.ResponseWriter, r *http.Request) *image {
	id := r.PathValue("id")
	img := reg.images[id]
	if img == nil {
		writeError(w, http.StatusNotFound, "no image "+id)
	}
	return img
}

// removePartial removes the files of uploads the end of the hub cut short.
// Only once the hub has ended.
func (reg *registry) removePartial() {
	for part, final := range reg.partial {
		removeFile(part)
		removeFile(final)
	}
	clear(reg.partial)
}

func (reg *registry) internalError(w http.ResponseWriter, img *image, what string, err error) {
	reg.log.Error("wsgi: "+what, "id", img.ID, "err", err)
	writeError(w, http.StatusInternalServerError, what+" failed")
}

// bodyError answers a request whose body could not be read: 408 when it was
// too slow. greenhttp has already answered a malformed body with 400, and
// for any other error the client has gone.
func bodyError(w http.ResponseWriter, err error) {
	var ne net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		writeError(w, http.StatusRequestTimeout, "the request body was too slow")
	}
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the types above always encode
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	w.Write(b)
}

// writeError answers with {"error": {"code", "title", "message"}}.
func writeError(w http.ResponseWriter, status int, message string) {
	type detail struct {
		Code    int    `json:"code"`
		Title   string `json:"title"`
		Message string `json:"message"`
	}
	writeJSON(w, status, map[string]detail{"error": {status, http.StatusText(status), message}})
}

// newID returns a random (version 4) UUID, as Glance's image ids.
func newID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}
