/* Intrusive list helpers shared by the layers (internal). */
#ifndef WIRE_SRC_LIST_H
#define WIRE_SRC_LIST_H

#include <stddef.h>
#include "wire.h"

#define wire_container_of(ptr, type, member)                                                       \
	((type *)(void *)((char *)(ptr)-offsetof(type, member)))

static inline void list_init(wire_list_t *l)
{
	l->next = l;
	l->prev = l;
}

static inline int list_empty(const wire_list_t *l)
{
	return l->next == l;
}

static inline void list_add_tail(wire_list_t *head, wire_list_t *n)
{
	wire_list_t *last = head->prev;
	n->next = head;
	n->prev = last;
	last->next = n;
	head->prev = n;
}

static inline void list_del(wire_list_t *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n;
	n->prev = n;
}

/* Remove and return the first node, or NULL if the list is empty. */
static inline wire_list_t *list_pop(wire_list_t *head)
{
	wire_list_t *n = head->next;
	if (n == head)
		return NULL;
	list_del(n);
	return n;
}

#endif
