package library

import (
	"context"
	"sync/atomic"

	"github.com/filedc/filedc/internal/files"
	"github.com/filedc/filedc/internal/lru"
)

// Every getFile of a document resolves it to its file (D1). A document
// never changes once stored, until it is collected, so a process that is
// alone on its records keeps what a download needs of the documents it
// served lately, and asks the store nothing per call. Collection, which in
// such a process only this process does, drops them. Processes sharing
// their records (several of one DC) read the store every time: another may
// have collected the document.

// docCacheBytes bounds the documents kept: tens of thousands.
const docCacheBytes = 4 << 20

// docFiles is what resolving a download location needs of a document.
type docFiles struct {
	accessHash int64
	file       files.FileRef
	thumbs     []thumbFile
}

type thumbFile struct {
	typ  string
	file files.FileRef
}

// cost is about what an entry holds in memory.
func (d docFiles) cost() int64 { return 96 + int64(len(d.thumbs))*48 }

// docCache keeps docFiles by document id; nil keeps none.
type docCache struct {
	docs *lru.Cache[int64, docFiles]
	// epoch moves when documents are collected: a lookup that began
	// before does not put back what it read.
	epoch atomic.Uint64
}

func newDocCache(engine *files.Engine) *docCache {
	if engine != nil && engine.Shared() {
		return nil
	}
	return &docCache{docs: lru.New[int64, docFiles](docCacheBytes)}
}

// docFiles returns what a download needs of document id, or the store's
// error (store.ErrNotFound for a document that is not there).
func (s *Service) docFiles(ctx context.Context, id int64) (docFiles, error) {
	c := s.docs
	var epoch uint64
	if c != nil {
		if d, ok := c.docs.Get(id); ok {
			return d, nil
		}
		epoch = c.epoch.Load()
	}
	d, err := s.cfg.Documents.Document(ctx, id)
	if err != nil {
		return docFiles{}, err
	}
	df := docFiles{accessHash: d.AccessHash, file: files.FileRef{ID: d.File, AccessHash: d.FileAccess}}
	for _, t := range d.Thumbs {
		df.thumbs = append(df.thumbs, thumbFile{typ: t.Type, file: files.FileRef{ID: t.File, AccessHash: t.FileAccess}})
	}
	if c != nil && c.epoch.Load() == epoch {
		c.docs.Put(id, df, df.cost())
	}
	return df, nil
}

// forgetDoc drops a collected document; the caller deleted it from the
// store first.
func (s *Service) forgetDoc(id int64) {
	if c := s.docs; c != nil {
		c.epoch.Add(1)
		c.docs.Delete(id)
	}
}
