/* nex_host.h: host services for Nex WebAssembly functions (WASI preview1 commands).
 *
 * The functions below are imported from the Wasm import module "nex". Strings and byte strings go in as
 * (pointer, length) into the guest's linear memory; nothing needs to be NUL-terminated. Results are written
 * into a buffer the guest supplies (out, out_cap); the full length of the result is always stored at
 * *out_len, so a guest whose buffer was too small (NEX_ERR_BUFFER_TOO_SMALL) knows how much to allocate
 * and can call again.
 *
 * Return values: 0 = success, NEX_NOT_FOUND (1) = no such key/object, negative = an error; the error's
 * text is available through nex_last_error. Bucket names are scoped to the workload's namespace by the host.
 * Calls block the guest until they complete, never past the invocation's time limit.
 */
#ifndef NEX_HOST_H
#define NEX_HOST_H

#include <stdint.h>

#define NEX_OK 0
#define NEX_NOT_FOUND 1
#define NEX_ERR_FAILED (-1)
#define NEX_ERR_BUFFER_TOO_SMALL (-2)
#define NEX_ERR_INVALID_ARGUMENT (-3)
#define NEX_ERR_DISABLED (-4)
#define NEX_ERR_TIMEOUT (-5)
#define NEX_ERR_NO_RESPONDERS (-6)
#define NEX_ERR_MEMORY (-8) /* a pointer/length pair outside linear memory */
#define NEX_ERR_UNSUPPORTED (-9)

#define NEX_IMPORT(name) __attribute__((import_module("nex"), import_name(#name)))

/* Key-value buckets. */
NEX_IMPORT(kv_get) int32_t nex_kv_get(const char *bucket, uint32_t bucket_len, const char *key, uint32_t key_len,
                                      void *out, uint32_t out_cap, uint32_t *out_len);
NEX_IMPORT(kv_set) int32_t nex_kv_set(const char *bucket, uint32_t bucket_len, const char *key, uint32_t key_len,
                                      const void *value, uint32_t value_len);
NEX_IMPORT(kv_delete) int32_t nex_kv_delete(const char *bucket, uint32_t bucket_len, const char *key, uint32_t key_len);
/* The keys as a JSON array of strings, sorted. */
NEX_IMPORT(kv_keys) int32_t nex_kv_keys(const char *bucket, uint32_t bucket_len, void *out, uint32_t out_cap,
                                        uint32_t *out_len);

/* Object store buckets. */
NEX_IMPORT(object_get) int32_t nex_object_get(const char *bucket, uint32_t bucket_len, const char *name, uint32_t name_len,
                                              void *out, uint32_t out_cap, uint32_t *out_len);
NEX_IMPORT(object_put) int32_t nex_object_put(const char *bucket, uint32_t bucket_len, const char *name, uint32_t name_len,
                                              const void *value, uint32_t value_len);
NEX_IMPORT(object_delete) int32_t nex_object_delete(const char *bucket, uint32_t bucket_len, const char *name,
                                                    uint32_t name_len);
/* The objects as a JSON array of {"modified","name","nuid","size"}. */
NEX_IMPORT(object_list) int32_t nex_object_list(const char *bucket, uint32_t bucket_len, void *out, uint32_t out_cap,
                                                uint32_t *out_len);

/* Messaging on the workload's NATS connection. timeout_ms 0 = the host's default. */
NEX_IMPORT(publish) int32_t nex_publish(const char *subject, uint32_t subject_len, const void *payload, uint32_t payload_len);
NEX_IMPORT(request) int32_t nex_request(const char *subject, uint32_t subject_len, const void *payload, uint32_t payload_len,
                                        uint32_t timeout_ms, void *out, uint32_t out_cap, uint32_t *out_len);

/* HTTP: method is "GET", "POST", "PUT", "PATCH", "DELETE" or "HEAD"; an empty body sends none. The response
 * headers arrive as a JSON object (values of repeated headers joined with ", "). When either buffer is too
 * small both lengths are still stored and NEX_ERR_BUFFER_TOO_SMALL is returned. */
NEX_IMPORT(http) int32_t nex_http(const char *method, uint32_t method_len, const char *url, uint32_t url_len,
                                  const void *body, uint32_t body_len, uint32_t *status,
                                  void *headers_out, uint32_t headers_cap, uint32_t *headers_len,
                                  void *body_out, uint32_t body_cap, uint32_t *body_out_len);

/* Copies the text of the last failed call (up to out_cap bytes) and returns its full length. */
NEX_IMPORT(last_error) int32_t nex_last_error(char *out, uint32_t out_cap);

#endif
