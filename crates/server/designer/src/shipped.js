// The flows idflow ships (definitions/*.bpmn), bundled as text: the designer starts drafts from
// them.
import currentTotp from '../../../../definitions/current-totp.bpmn';
import passcodeAuthentication from '../../../../definitions/passcode-authentication.bpmn';
import passcodeDeregistration from '../../../../definitions/passcode-deregistration.bpmn';
import passcodeRegistration from '../../../../definitions/passcode-registration.bpmn';
import passcodeRenewal from '../../../../definitions/passcode-renewal.bpmn';
import totpRegistration from '../../../../definitions/totp-registration.bpmn';

export const SHIPPED = [
  { name: 'current-totp', xml: currentTotp },
  { name: 'passcode-authentication', xml: passcodeAuthentication },
  { name: 'passcode-deregistration', xml: passcodeDeregistration },
  { name: 'passcode-registration', xml: passcodeRegistration },
  { name: 'passcode-renewal', xml: passcodeRenewal },
  { name: 'totp-registration', xml: totpRegistration },
];
