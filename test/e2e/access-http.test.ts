import { accessOverHttp } from './access-http.suite.ts';

accessOverHttp({ packaged: false });
