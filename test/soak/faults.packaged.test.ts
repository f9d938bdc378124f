import { faultInjectionSoak } from './faults.suite.ts';

faultInjectionSoak({ packaged: true });
