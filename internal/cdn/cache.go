package cdn

import (
	"container/list"
	"sync"
)

// entryOverhead is what an entry costs beside its bytes (list element, map
// slot, header), so that a cache of tiny blocks stays bounded too.
const entryOverhead = 128

type blockKey struct {
	file  int64
	block int
}

type cacheEntry struct {
	key      blockKey
	data     []byte // the encrypted block, never changed once cached
	fileSize int64
}

// Cache holds encrypted blocks within a byte budget, evicting the least
// recently used first. Blocks are never modified once put, so a reader may
// keep a slice of one after it has been evicted.
type Cache struct {
	mu        sync.Mutex
	max       int64
	used      int64
	lru       *list.List // front: most recently used
	blocks    map[blockKey]*list.Element
	evictions int64
}

// NewCache returns a cache of at most max bytes.
func NewCache(max int64) *Cache {
	return &Cache{max: max, lru: list.New(), blocks: make(map[blockKey]*list.Element)}
}

func cost(data []byte) int64 { return int64(len(data)) + entryOverhead }

// Get returns block of file and the file's size.
func (c *Cache) Get(file int64, block int) (data []byte, fileSize int64, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.blocks[blockKey{file, block}]
	if !ok {
		return nil, 0, false
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*cacheEntry)
	return e.data, e.fileSize, true
}

// Put stores a block, replacing an older copy, and evicts the least
// recently used blocks until the cache is within its budget.
func (c *Cache) Put(file int64, block int, data []byte, fileSize int64) {
	if cost(data) > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := blockKey{file, block}
	if el, ok := c.blocks[k]; ok {
		c.remove(el)
	}
	c.blocks[k] = c.lru.PushFront(&cacheEntry{key: k, data: data, fileSize: fileSize})
	c.used += cost(data)
	for c.used > c.max {
		c.remove(c.lru.Back())
		c.evictions++
	}
}

func (c *Cache) remove(el *list.Element) {
	e := c.lru.Remove(el).(*cacheEntry)
	delete(c.blocks, e.key)
	c.used -= cost(e.data)
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
	c.mu.Lock()
	defer c.mu.Unlock()
	return CacheStats{Blocks: len(c.blocks), Bytes: c.used, Max: c.max, Evictions: c.evictions}
}
