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
			storetest.TestPartLister(t, func(t *testing.T) store.Temp { return objstore.New(c.open(t)) })
		})
	}
	t.Run("DirBolt", func(t *testing.T) {
		storetest.TestPartLister(t, func(t *testing.T) store.Temp { return objstore.New(openDir(t), openBolt(t)) })
	})
}
