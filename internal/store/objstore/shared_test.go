package objstore_test

import (
	"testing"

	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/objstore"
	"github.com/filedc/filedc/internal/store/storetest"
)

func TestPartLister(t *testing.T) {
	for _, c := range combos {
		t.Run(c.name, func(t *testing.T) {
			storetest.TestPartLister(t, func(t *testing.T) store.Temp {
				b, i := c.open(t)
				return newStore(t, b, i, objstore.GC{})
			})
		})
	}
	t.Run("DirBolt", func(t *testing.T) {
		storetest.TestPartLister(t, func(t *testing.T) store.Temp { return newStore(t, openDir(t), openBolt(t), objstore.GC{}) })
	})
}
