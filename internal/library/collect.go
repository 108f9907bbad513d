package library

import (
	"context"
	"slices"

	"github.com/filedc/filedc/internal/files"
)

// Collection (M6): a document or photo that no message names any more,
// and that is no one's profile photo or a chat's photo, is deleted with
// its thumbnails and sizes; a document's content goes when no other
// document shares it. Identical content is stored once, so a file stays
// while anything refers to it.
//
// The store checks and deletes atomically, so a send in another process
// sharing the records either keeps an object or fails. Within this process
// sends and collection wait for each other (mediaMu), so no send fails.

// Hold keeps media from being collected until release is called: a send
// holds it from resolving the media it names to storing its message.
func (s *Service) Hold() (release func()) {
	s.mediaMu.RLock()
	return s.mediaMu.RUnlock
}

// Collect runs unlink, which deletes what refers to media (messages) and
// returns the ids of the documents and photos they named, while no send
// holds media; then it deletes those of them nothing refers to any more.
func (s *Service) Collect(ctx context.Context, unlink func() (objects []int64, err error)) error {
	s.mediaMu.Lock()
	defer s.mediaMu.Unlock()
	objects, err := unlink()
	if err != nil {
		return err
	}
	return s.collect(ctx, objects)
}

// collect deletes the documents and photos among objects that nothing
// refers to any more. The caller holds mediaMu alone.
func (s *Service) collect(ctx context.Context, objects []int64) error {
	slices.Sort(objects)
	for _, id := range slices.Compact(objects) {
		d, deleted, fileFree, err := s.cfg.Documents.CollectDocument(ctx, id)
		if err != nil {
			return err
		}
		if deleted {
			s.forgetDoc(id)
			s.dropDocumentFiles(ctx, d)
			if fileFree {
				s.dropFile(ctx, files.FileRef{ID: d.File, AccessHash: d.FileAccess})
			}
			continue
		}
		if err := s.collectPhoto(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// collectPhoto removes a photo and its sizes when no message names it and
// it is not its owner's profile photo.
func (s *Service) collectPhoto(ctx context.Context, id int64) error {
	p, deleted, err := s.cfg.Photos.CollectPhoto(ctx, id)
	if err != nil || !deleted {
		return err
	}
	sizes := p.Sizes
	if p.Video != nil {
		sizes = append(sizes, *p.Video)
	}
	for _, sz := range sizes {
		s.dropFile(ctx, files.FileRef{ID: sz.File, AccessHash: sz.FileAccess})
	}
	return nil
}

// dropProfilePhotos deletes photos that left a profile, unless a message
// still shows them.
func (s *Service) dropProfilePhotos(ctx context.Context, ids []int64) error {
	s.mediaMu.Lock()
	defer s.mediaMu.Unlock()
	for _, id := range ids {
		if err := s.collectPhoto(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// DiscardPhoto collects a photo made for a change that then failed (a chat
// photo the chat did not take). Nothing was told of the photo, so no send
// can name it: the caller may be holding media (Hold) meanwhile.
func (s *Service) DiscardPhoto(ctx context.Context, id int64) error {
	return s.collectPhoto(ctx, id)
}
