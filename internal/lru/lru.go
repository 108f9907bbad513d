// Package lru is a cache of values within a budget of bytes, least recently
// used out first: the CDN's encrypted blocks and the map tiles and previews
// are kept in one.
package lru

import (
	"container/list"
	"sync"
)

// Cache maps keys to values, each with a cost in bytes, within a budget.
type Cache[K comparable, V any] struct {
	mu        sync.Mutex
	max       int64
	used      int64
	evictions int64
	order     *list.List // front: most recently used
	items     map[K]*list.Element
}

type item[K comparable, V any] struct {
	key  K
	val  V
	cost int64
}

// New returns a cache of at most max bytes.
func New[K comparable, V any](max int64) *Cache[K, V] {
	return &Cache[K, V]{max: max, order: list.New(), items: make(map[K]*list.Element)}
}

// Get returns the value of k and makes it the most recently used.
func (c *Cache[K, V]) Get(k K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*item[K, V]).val, true
}

// Delete removes k, if it is there.
func (c *Cache[K, V]) Delete(k K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.remove(el)
	}
}

// Put stores v under k, replacing an older value, and evicts the least
// recently used values until the cache is within its budget. A value
// costing more than the whole budget is not kept.
func (c *Cache[K, V]) Put(k K, v V, cost int64) {
	if cost > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[k]; ok {
		c.remove(el)
	}
	c.items[k] = c.order.PushFront(&item[K, V]{k, v, cost})
	c.used += cost
	for c.used > c.max {
		c.remove(c.order.Back())
		c.evictions++
	}
}

func (c *Cache[K, V]) remove(el *list.Element) {
	it := c.order.Remove(el).(*item[K, V])
	delete(c.items, it.key)
	c.used -= it.cost
}

// Stats is what a cache holds now.
type Stats struct {
	Items     int
	Bytes     int64
	Max       int64
	Evictions int64
}

// Stats returns the cache's figures.
func (c *Cache[K, V]) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return Stats{Items: len(c.items), Bytes: c.used, Max: c.max, Evictions: c.evictions}
}
