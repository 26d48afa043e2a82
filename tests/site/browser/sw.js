self.addEventListener("fetch", event => event.respondWith(new Response("hijacked by a service worker")));
