package cdn

import "github.com/filedc/filedc/internal/lru"

// entryOverhead is what an entry costs beside its bytes (list element, map
// slot, header), so that a cache of tiny blocks stays bounded too.
const entryOverhead = 128

type blockKey struct {
	file  int64
	block int
}

type cacheEntry struct {
	data     []byte // the encrypted block, never changed once cached
	fileSize int64
}

// Cache holds encrypted blocks within a byte budget, evicting the least
// recently used first. Blocks are never modified once put, so a reader may
// keep a slice of one after it has been evicted.
type Cache struct {
	blocks *lru.Cache[blockKey, cacheEntry]
}

// NewCache returns a cache of at most max bytes.
func NewCache(max int64) *Cache { return &Cache{blocks: lru.New[blockKey, cacheEntry](max)} }

// Get returns block of file and the file's size.
func (c *Cache) Get(file int64, block int) (data []byte, fileSize int64, ok bool) {
	e, ok := c.blocks.Get(blockKey{file, block})
	return e.data, e.fileSize, ok
}

// Put stores a block, replacing an older copy, and evicts the least
// recently used blocks until the cache is within its budget.
func (c *Cache) Put(file int64, block int, data []byte, fileSize int64) {
	c.blocks.Put(blockKey{file, block}, cacheEntry{data, fileSize}, int64(len(data))+entryOverhead)
}

// CacheStats is what a cache holds now.
type CacheStats struct {
	Blocks    int
	Bytes     int64 // counted with each entry's overhead
	Max       int64
	Evictions int64
}

// Stats returns the cache's figures.
func (c *Cache) Stats() CacheStats {
	s := c.blocks.Stats()
	return CacheStats{Blocks: s.Items, Bytes: s.Bytes, Max: s.Max, Evictions: s.Evictions}
}
