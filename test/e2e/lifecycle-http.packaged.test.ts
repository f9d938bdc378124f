import { lifecycleOverHttp } from './lifecycle-http.suite.ts';

lifecycleOverHttp({ packaged: true });
