// Loaded with NODE_OPTIONS=--require before js-ipfs starts: a dependency of ipfs@0.66.1 calls
// Promise.withResolvers, which Node gained only in version 22. Same semantics as the built-in.
'use strict'

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: function withResolvers () {
      let resolve
      let reject
      const promise = new this((res, rej) => {
        resolve = res
        reject = rej
      })
      return { promise, resolve, reject }
    }
  })
}
