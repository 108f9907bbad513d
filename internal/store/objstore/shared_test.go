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

func TestHashStateKeeper(t *testing.T) {
	all := append(combos[:len(combos):len(combos)], struct {
		name string
		open func(t *testing.T) (objstore.Bucket, objstore.Index)
	}{"DirBolt", func(t *testing.T) (objstore.Bucket, objstore.Index) { return openDir(t), openBolt(t) }})
	for _, c := range all {
		t.Run(c.name, func(t *testing.T) {
			var b objstore.Bucket
			var i objstore.Index
			storetest.TestHashStateKeeper(t,
				func(t *testing.T) store.Temp {
					b, i = c.open(t)
					return newStore(t, b, i, objstore.GC{})
				},
				// Another process on the same bucket and index.
				func(t *testing.T, _ store.Temp) store.Temp { return newStore(t, b, i, objstore.GC{}) })
		})
	}
}
