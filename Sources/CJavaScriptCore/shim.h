#ifndef NEX_CJAVASCRIPTCORE_SHIM_H
#define NEX_CJAVASCRIPTCORE_SHIM_H

#include <stdbool.h>
#include <JavaScriptCore/JavaScript.h>

/* Exported by libjavascriptcoregtk but declared only in WebKit's private JSContextRefPrivate.h:
 * a per-context-group execution time limit (seconds of CPU time). The callback is asked whether to
 * terminate once the limit is reached; returning true throws an uncatchable termination exception.
 * It does not interrupt WebAssembly loops (see DESIGN.md §5). */
typedef bool (*JSShouldTerminateCallback)(JSContextRef ctx, void *context);
void JSContextGroupSetExecutionTimeLimit(JSContextGroupRef group, double limit, JSShouldTerminateCallback callback,
                                         void *context);
void JSContextGroupClearExecutionTimeLimit(JSContextGroupRef group);

#endif
