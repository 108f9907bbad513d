package store_test

import (
	"testing"

	"github.com/filedc/filedc/internal/store"
	"github.com/filedc/filedc/internal/store/storetest"
)

func TestMemOnce(t *testing.T) {
	storetest.TestOnce(t, func(t *testing.T) store.Once { return &store.MemOnce{} })
}
