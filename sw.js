// Service worker entry point. It sits at the site root only so that its scope
// covers index.html on any static host; the code is in web/sw.js.
importScripts("./web/sw.js");
